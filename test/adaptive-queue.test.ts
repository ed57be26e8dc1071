// queue.order = "adaptive" in the route's object: LIFO once the queue stands, CoDel sheds the long waits (issue 21).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Route } from "../src/config/parse.ts";
import { parseConfig } from "../src/config/parse.ts";
import { routeGauges } from "../src/core/partition.ts";
import type { Gauge } from "../src/object/durable-object.ts";
import type { AcquireResult } from "../src/protocol.ts";
import { eventually } from "./helpers/gate.ts";

const HOLD = 60_000;
const adaptive = { size: 10, maxWaitMs: 30_000, adaptive: { targetMs: 5, intervalMs: 100 } };

describe("an adaptive queue in the route's object", () => {
	it("Should serve newest first once the queue stood an interval, and shed waiters past 2 × target once overloaded", async () => {
		const stub = env.GAUGE.getByName(`adaptive-queue-${crypto.randomUUID()}`);
		const at = async (t: number) =>
			runInDurableObject(stub, (instance: Gauge) => {
				instance.clock = () => 1_000_000 + t;
			});
		await at(0);
		expect(await stub.acquire({ leaseId: "holder", limit: 1, maxHoldMs: HOLD })).toMatchObject({ ok: true });
		const waiters: Promise<AcquireResult>[] = [];
		for (const [i, t] of [0, 10, 20].entries()) {
			await at(t);
			waiters.push(stub.acquire({ leaseId: `w${i}`, limit: 1, maxHoldMs: HOLD, queue: adaptive }));
			// The clock moves only once this waiter is in the queue.
			await eventually(async () => expect((await stub.status()).queued).toBe(i + 1));
		}
		await at(150);
		await stub.release("holder", HOLD);
		// LIFO: the newest waiter gets the permit; the first interval was not overloaded, so nobody is shed.
		expect(await waiters[2]).toMatchObject({ ok: true, leaseId: "w2" });
		await at(260);
		await stub.release("w2", HOLD);
		// Every wait of the interval that ended was above the target: waits above 10 ms are shed, not served.
		expect(await waiters[1]).toMatchObject({ ok: false, reason: "queue-timeout" });
		expect(await waiters[0]).toMatchObject({ ok: false, reason: "queue-timeout" });
		expect((await stub.status()).counters.shed).toBe(2);
	});

	it("Should scale an unset target to the route's mean hold time: with 200 ms holds, shed a 120 ms wait but serve a 40 ms one", async () => {
		const run = async (settings: { targetMs?: number; intervalMs?: number }) => {
			const stub = env.GAUGE.getByName(`adaptive-auto-${crypto.randomUUID()}`);
			const at = async (t: number) =>
				runInDurableObject(stub, (instance: Gauge) => {
					instance.clock = () => 1_000_000 + t;
				});
			// Thirty permits held 200 ms each: the mean hold time (from its 1 s start) comes to about 200 ms.
			for (let i = 0; i < 30; i++) {
				await at(i * 1_000);
				expect(await stub.acquire({ leaseId: `warm${i}`, limit: 1, maxHoldMs: HOLD })).toMatchObject({ ok: true });
				await at(i * 1_000 + 200);
				await stub.release(`warm${i}`, HOLD);
			}
			const { holdEwmaMs } = await stub.status();
			expect(holdEwmaMs).toBeGreaterThan(199);
			expect(holdEwmaMs).toBeLessThan(202);
			const queue = { size: 10, maxWaitMs: 30_000, adaptive: settings };
			const T = 100_000;
			const enqueue = async (leaseId: string, t: number, queued: number) => {
				await at(t);
				const waiter = stub.acquire({ leaseId, limit: 1, maxHoldMs: HOLD, queue });
				await eventually(async () => expect((await stub.status()).queued).toBe(queued));
				// Wrapped: an async function returning the promise itself would wait for the answer.
				return { waiter };
			};
			await at(T);
			expect(await stub.acquire({ leaseId: "holder", limit: 1, maxHoldMs: HOLD })).toMatchObject({ ok: true });
			const first = await enqueue("first", T, 1);
			await at(T + 200);
			await stub.release("holder", HOLD);
			// Its 200 ms wait is the smallest of the interval that ends next, above any target under 200 ms.
			expect(await first.waiter).toMatchObject({ ok: true });
			const old = await enqueue("old", T + 280, 1);
			const young = await enqueue("young", T + 360, 2);
			await at(T + 400);
			await stub.release("first", HOLD);
			return { old: await old.waiter, young: await young.waiter, shed: (await stub.status()).counters.shed };
		};
		// Auto: target 50 ms (a quarter of the hold), so waits over 100 ms are shed, and the 40 ms one is served.
		expect(await run({})).toMatchObject({ old: { ok: false, reason: "queue-timeout" }, young: { ok: true, leaseId: "young" }, shed: 1 });
		// An explicit target in the config wins: Facebook's 5 ms sheds both waits (over 10 ms).
		expect(await run({ targetMs: 5, intervalMs: 100 })).toMatchObject({
			old: { ok: false, reason: "queue-timeout" },
			young: { ok: false, reason: "queue-timeout" },
			shed: 2,
		});
	}, 30_000);

	it("Should keep FIFO without order = adaptive", async () => {
		const stub = env.GAUGE.getByName(`fifo-queue-${crypto.randomUUID()}`);
		expect(await stub.acquire({ leaseId: "holder", limit: 1, maxHoldMs: HOLD })).toMatchObject({ ok: true });
		const queue = { size: 10, maxWaitMs: 30_000 };
		const first = stub.acquire({ leaseId: "a", limit: 1, maxHoldMs: HOLD, queue });
		const second = stub.acquire({ leaseId: "b", limit: 1, maxHoldMs: HOLD, queue });
		await stub.release("holder", HOLD);
		expect(await first).toMatchObject({ ok: true, leaseId: "a" });
		await stub.release("a", HOLD);
		expect(await second).toMatchObject({ ok: true, leaseId: "b" });
	});

	it("Should read queue.order, with targetMs and intervalMs auto when unset and fixed when given", () => {
		const queueOf = (queue: Record<string, unknown>) => {
			const parsed = parseConfig({
				LIMITS: { routes: [{ name: "q", path: "/*", limit: 5, queue: { size: 10, maxWaitMs: 2_000, ...queue } }] },
			});
			return parsed.ok ? parsed.config.routes[0]?.queue : parsed.errors;
		};
		expect(queueOf({ order: "adaptive" })).toEqual({ size: 10, maxWaitMs: 2_000, adaptive: { targetMs: "auto", intervalMs: "auto" } });
		expect(queueOf({ order: "adaptive", targetMs: 5, intervalMs: 100 })).toEqual({
			size: 10,
			maxWaitMs: 2_000,
			adaptive: { targetMs: 5, intervalMs: 100 },
		});
		expect(queueOf({ order: "adaptive", targetMs: 30 })).toMatchObject({ adaptive: { targetMs: 30, intervalMs: "auto" } });
		expect(queueOf({})).toMatchObject({ adaptive: null });
		// What the route's object is sent: a fixed number, or nothing for auto.
		const route = (queue: Record<string, unknown>) => {
			const parsed = parseConfig({
				LIMITS: { routes: [{ name: "q", path: "/*", limit: 5, queue: { size: 10, maxWaitMs: 2_000, ...queue } }] },
			});
			if (!parsed.ok) throw new Error(parsed.errors.join("; "));
			return routeGauges(parsed.config.routes[0] as Route)[0]?.queue;
		};
		expect(route({ order: "adaptive" })).toEqual({ size: 10, maxWaitMs: 2_000, adaptive: {} });
		expect(route({ order: "adaptive", intervalMs: 300 })).toEqual({ size: 10, maxWaitMs: 2_000, adaptive: { intervalMs: 300 } });
		expect(route({})).toEqual({ size: 10, maxWaitMs: 2_000 });
		const bad = parseConfig({
			LIMITS: { routes: [{ name: "q", path: "/*", limit: 5, queue: { size: 10, maxWaitMs: 2_000, order: "lifo" } }] },
		});
		expect(!bad.ok && bad.errors).toEqual(['LIMITS.routes[0] ("q").queue.order: got "lifo", expected "fifo" or "adaptive"']);
	});

	it("Should turn blocks off under an adaptive queue by default, keep them under FIFO, and refuse them explicitly set, naming why", () => {
		const parse = (extra: Record<string, unknown>) =>
			parseConfig({ LIMITS: { routes: [{ name: "q", path: "/*", limit: 40, queue: { size: 10, maxWaitMs: 2_000 }, ...extra }] } });
		const adaptive = parse({ queue: { size: 10, maxWaitMs: 2_000, order: "adaptive" } });
		const fifo = parse({});
		expect(adaptive.ok && adaptive.config.routes[0]?.blocks).toBeNull();
		expect(fifo.ok && fifo.config.routes[0]?.blocks).not.toBeNull();
		const both = parse({ queue: { size: 10, maxWaitMs: 2_000, order: "adaptive" }, blocks: { max: 4 } });
		expect(!both.ok && both.errors).toEqual([
			expect.stringMatching(
				/^LIMITS\.routes\[0\] \("q"\)\.blocks: got \{"max":4\}, expected "off" or nothing on a route whose queue is adaptive: /,
			),
		]);
	});
});
