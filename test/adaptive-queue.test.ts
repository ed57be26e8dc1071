// queue.order = "adaptive" in the route's object: LIFO once the queue stands, CoDel sheds the long waits (issue 21).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/parse.ts";
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

	it("Should read queue.order, targetMs and intervalMs with Facebook's defaults", () => {
		const parsed = parseConfig({
			LIMITS: { routes: [{ name: "q", path: "/*", limit: 5, queue: { size: 10, maxWaitMs: 2_000, order: "adaptive" } }] },
		});
		expect(parsed.ok && parsed.config.routes[0]?.queue).toEqual({ size: 10, maxWaitMs: 2_000, adaptive: { targetMs: 5, intervalMs: 100 } });
		const bad = parseConfig({
			LIMITS: { routes: [{ name: "q", path: "/*", limit: 5, queue: { size: 10, maxWaitMs: 2_000, order: "lifo" } }] },
		});
		expect(!bad.ok && bad.errors).toEqual(['LIMITS.routes[0] ("q").queue.order: got "lifo", expected "fifo" or "adaptive"']);
	});
});
