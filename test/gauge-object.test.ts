import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Gauge } from "../src/object/durable-object.ts";

const HOLD = 60_000;
let objects = 0;
const freshGauge = () => env.GAUGE.getByName(`gauge-test-${++objects}`);
const acquire = (stub: DurableObjectStub<Gauge>, leaseId: string, limit = 3) => stub.acquire({ leaseId, limit, maxHoldMs: HOLD });

describe("Gauge Durable Object", () => {
	it("grants up to the limit, refuses the next, grants again after a release", async () => {
		const stub = freshGauge();
		for (const id of ["a", "b", "c"]) expect(await acquire(stub, id)).toMatchObject({ ok: true });
		expect(await acquire(stub, "d")).toMatchObject({ ok: false, reason: "full", inFlight: 3 });
		expect(await stub.release("b", HOLD)).toBe(true);
		expect(await stub.release("b", HOLD)).toBe(false);
		expect(await acquire(stub, "d")).toMatchObject({ ok: true, inFlight: 3 });
		expect((await stub.status()).counters).toEqual({
			admitted: 4,
			refused: 1,
			released: 1,
			reaped: 0,
			dryRunRefused: 0,
			queued: 0,
			shed: 0,
		});
	});

	it("never grants more than the limit to concurrent callers", async () => {
		const stub = freshGauge();
		const results = await Promise.all(Array.from({ length: 60 }, (_, i) => acquire(stub, `c${i}`, 7)));
		expect(results.filter((r) => r.ok)).toHaveLength(7);
		expect((await stub.status()).inFlight).toBe(7);
	});

	it("an alarm reaps expired leases, counts them and re-arms for the rest", async () => {
		const stub = freshGauge();
		await acquire(stub, "old");
		await runInDurableObject(stub, (instance: Gauge) => {
			const start = Date.now();
			instance.clock = () => start + HOLD / 2;
		});
		await acquire(stub, "young");
		await runInDurableObject(stub, (instance: Gauge) => {
			const start = Date.now();
			instance.clock = () => start + HOLD + 1;
		});
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const status = await stub.status();
		expect(status.inFlight).toBe(1);
		expect(status.counters.reaped).toBe(1);
		// The young lease still needs reaping later, so the alarm is armed again.
		expect(await runDurableObjectAlarm(stub)).toBe(true);
	});

	it("keeps its leases when evicted mid-flight, and still refuses above the limit", async () => {
		const stub = freshGauge();
		for (const id of ["a", "b", "c"]) await acquire(stub, id);
		await evictDurableObject(stub);
		expect((await stub.status()).inFlight).toBe(3);
		expect(await acquire(stub, "d")).toMatchObject({ ok: false, reason: "full" });
		expect(await stub.release("a", HOLD)).toBe(true);
		expect(await acquire(stub, "d")).toMatchObject({ ok: true });
	});

	it("a reset (every object aborted) never grants above the limit", async () => {
		const stub = freshGauge();
		for (const id of ["a", "b", "c"]) await acquire(stub, id);
		await abortAllDurableObjects();
		const again = env.GAUGE.getByName(`gauge-test-${objects}`);
		const results = await Promise.all(Array.from({ length: 10 }, (_, i) => acquire(again, `after${i}`)));
		expect(results.filter((r) => r.ok)).toHaveLength(0);
		expect((await again.status()).inFlight).toBe(3);
	});

	it("a repeated acquire (a retried RPC) holds one permit, and a late one after release holds none", async () => {
		const stub = freshGauge();
		const [first, second] = await Promise.all([acquire(stub, "same", 1), acquire(stub, "same", 1)]);
		expect(first?.ok && second?.ok).toBe(true);
		expect((await stub.status()).inFlight).toBe(1);
		await stub.release("same", HOLD);
		expect(await acquire(stub, "same", 1)).toMatchObject({ ok: false, reason: "released" });
		expect((await stub.status()).inFlight).toBe(0);
	});
});
