// withGauge and acquire on a plain fetch handler: the same holds as the middleware, and a permit as a value.
import { describe, expect, it } from "vitest";
import { acquire, withGauge } from "../../src/index.ts";
import { drive, gaugeStatus, uniqueName } from "../helpers/library.ts";

const inFlight = async (name: string): Promise<number> => (await gaugeStatus(name)).inFlight;

describe("withGauge", () => {
	it("holds the permit until the body is read, and releases it after", async () => {
		const name = uniqueName("fetch-body");
		const worker = drive(withGauge({ name, limit: 1 }, () => new Response("x".repeat(100_000))));
		const res = await worker.fetch("/");
		expect(await inFlight(name)).toBe(1);
		// The one permit is held: a second request is refused with the seed's 429.
		const refused = await worker.fetch("/");
		expect(refused.status).toBe(429);
		expect(refused.headers.get("retry-after")).not.toBeNull();
		await res.text();
		await worker.settle();
		expect(await inFlight(name)).toBe(0);
	});

	it("a handler that throws releases its permit, and the error reaches the caller", async () => {
		const name = uniqueName("fetch-throws");
		const worker = drive(
			withGauge({ name, limit: 1 }, () => {
				throw new Error("boom");
			}),
		);
		await expect(worker.fetch("/")).rejects.toThrow("boom");
		await worker.settle();
		expect(await inFlight(name)).toBe(0);
	});

	it("a key function of the request's context", async () => {
		const name = uniqueName("fetch-key");
		let release = (): void => undefined;
		const held = new Promise<void>((resolve) => {
			release = resolve;
		});
		const handler = withGauge(
			{ name, limit: 5, perKey: { limit: 1, by: ({ request }) => new URL(request.url).searchParams.get("u") } },
			async () => {
				await held;
				return new Response("ok");
			},
		);
		const worker = drive(handler);
		const first = worker.fetch("/?u=a");
		await scheduler.wait(50);
		expect((await worker.fetch("/?u=a")).status).toBe(429);
		release();
		expect((await first).status).toBe(200);
		expect((await worker.fetch("/?u=b")).status).toBe(200);
		await worker.settle();
	});

	it("throws on bad options when built", () => {
		expect(() => withGauge({ name: "x", limit: 1.5 }, () => new Response())).toThrow(
			'pressure-gauge: withGauge() got invalid options (docs/library.md, "Options"):\n  - options.limit: got 1.5, expected an integer >= 1',
		);
	});
});

describe("acquire", () => {
	it("returns a permit as a value; hold() keeps it until the body is over, release() is idempotent", async () => {
		const options = { name: uniqueName("acquire"), limit: 1 };
		const worker = drive(async (request, env, ctx) => {
			const result = await acquire(options, { request, env, ctx });
			if (!result.ok) return result.response();
			return result.permit.hold(new Response("held"));
		});
		const res = await worker.fetch("/");
		expect(await res.text()).toBe("held");
		await worker.settle();
		expect(await gaugeStatus(options.name).then((s) => s.inFlight)).toBe(0);

		const { env } = await import("cloudflare:workers");
		const ctx = { waitUntil: () => undefined } as unknown as ExecutionContext;
		const first = await acquire(options, { request: new Request("http://app.test/"), env, ctx });
		const second = await acquire(options, { request: new Request("http://app.test/"), env, ctx });
		expect(first.ok).toBe(true);
		expect(second).toMatchObject({ ok: false, refusal: { kind: "limited", scope: "route" } });
		if (!first.ok) throw new Error("not admitted");
		await first.permit.release();
		await first.permit.release();
		expect(await gaugeStatus(options.name).then((s) => s.inFlight)).toBe(0);
	});
});
