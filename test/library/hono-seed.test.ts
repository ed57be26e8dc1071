// The seed's experiment through the Hono middleware, inside workerd: a handler that sleeps 2 s behind
// gauge({ limit: 10 }), 200 requests from 50 clients (hey's defaults) -> 40 admitted, 160 refused.
import { Hono } from "hono";
import { expect, it } from "vitest";
import { gauge } from "../../src/hono.ts";
import { Concurrency, drive, gaugeStatus, seedLoad, uniqueName } from "../helpers/library.ts";

const name = uniqueName("hono-seed");
const inside = new Concurrency();
// Built at module scope, as users do: building does no I/O and starts no timer.
const app = new Hono();
app.get("/request", gauge({ name, limit: 10 }), (c) =>
	inside.during(async () => {
		await scheduler.wait(2_000);
		return c.text("ok");
	}),
);

it("limit 10, 50 clients x 4 requests: 40 x 200, 160 x 429, at most 10 handlers at once", { timeout: 30_000 }, async () => {
	const worker = drive((request, env, ctx) => app.fetch(request, env, ctx));
	const statuses = await seedLoad(() => worker.fetch("/request"));
	await worker.settle();
	expect(statuses).toEqual({ 200: 40, 429: 160 });
	expect(inside.peak).toBe(10);
	expect((await gaugeStatus(name)).inFlight).toBe(0);
});
