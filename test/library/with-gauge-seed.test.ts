// The seed's experiment through withGauge on a plain fetch handler, inside workerd.
import { expect, it } from "vitest";
import { withGauge } from "../../src/index.ts";
import { Concurrency, drive, gaugeStatus, seedLoad, uniqueName } from "../helpers/library.ts";

const name = uniqueName("fetch-seed");
const inside = new Concurrency();
const handler = withGauge({ name, limit: 10 }, () =>
	inside.during(async () => {
		await scheduler.wait(2_000);
		return new Response("ok");
	}),
);

it("limit 10, 50 clients x 4 requests: 40 x 200, 160 x 429, at most 10 handlers at once", { timeout: 30_000 }, async () => {
	const worker = drive(handler);
	const statuses = await seedLoad(() => worker.fetch("/request"));
	await worker.settle();
	expect(statuses).toEqual({ 200: 40, 429: 160 });
	expect(inside.peak).toBe(10);
	expect((await gaugeStatus(name)).inFlight).toBe(0);
});
