import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Gauge } from "../src/object/durable-object.ts";
import { MemoryLeaseStore } from "../src/object/lease-store.ts";
import { LeaseTable } from "../src/object/lease-table.ts";

const HOLD = 10_000;
const req = (leaseId: string, limit = 1) => ({ leaseId, limit, maxHoldMs: HOLD });

describe("LeaseTable.renew", () => {
	it("extends a live lease from now, so it outlives its first expiry", () => {
		const t = new LeaseTable(new MemoryLeaseStore());
		t.acquire(req("a"), 0);
		expect(t.renew("a", HOLD - 1, HOLD)).toBe(true);
		expect(t.inFlight(HOLD + 1)).toBe(1);
		expect(t.acquire(req("b"), HOLD + 1)).toMatchObject({ ok: false, reason: "full" });
		expect(t.nextExpiry()).toBe(2 * HOLD - 1);
		// Past the renewed expiry, it is reaped like any lease.
		expect(t.inFlight(2 * HOLD - 1)).toBe(0);
		expect(t.counters.reaped).toBe(1);
	});

	it("is idempotent and never shortens a lease", () => {
		const t = new LeaseTable(new MemoryLeaseStore());
		t.acquire(req("a"), 0);
		expect(t.renew("a", 5_000, HOLD)).toBe(true);
		expect(t.renew("a", 5_000, HOLD)).toBe(true);
		expect(t.renew("a", 6_000, 1_000)).toBe(true);
		expect(t.nextExpiry()).toBe(5_000 + HOLD);
		expect(t.counters).toMatchObject({ admitted: 1, released: 0 });
	});

	it("never revives a lease that was released, has expired, or never existed", () => {
		const t = new LeaseTable(new MemoryLeaseStore());
		t.acquire(req("released", 2), 0);
		t.release("released", 1, HOLD);
		expect(t.renew("released", 2, HOLD)).toBe(false);
		expect(t.acquire(req("released", 2), 3)).toMatchObject({ ok: false, reason: "released" });
		t.acquire(req("expired", 2), 0);
		expect(t.renew("expired", HOLD, HOLD)).toBe(false);
		expect(t.renew("unknown", HOLD, HOLD)).toBe(false);
		expect(t.inFlight(HOLD)).toBe(0);
	});
});

describe("Gauge.renew (the Durable Object)", () => {
	const gauge = (name: string) => env.GAUGE.getByName(`renew-test-${name}-${crypto.randomUUID()}`);

	it("keeps a renewed lease through its old expiry, across an eviction, and its alarm reaps only what expired", async () => {
		const stub = gauge("keep");
		await stub.acquire(req("a"));
		const start = Date.now();
		await runInDurableObject(stub, (instance: Gauge) => {
			instance.clock = () => start + HOLD / 2;
		});
		expect(await stub.renew("a", HOLD)).toBe(true);
		await evictDurableObject(stub);
		await runInDurableObject(stub, (instance: Gauge) => {
			instance.clock = () => start + HOLD + 1;
		});
		await runDurableObjectAlarm(stub);
		const status = await stub.status();
		expect(status.inFlight).toBe(1);
		expect(status.counters.reaped).toBe(0);
		expect(await stub.release("a", HOLD)).toBe(true);
		expect((await stub.status()).inFlight).toBe(0);
	});

	it("answers false for a released or expired lease, and the permit stays free", async () => {
		const stub = gauge("lost");
		await stub.acquire(req("a"));
		await stub.release("a", HOLD);
		expect(await stub.renew("a", HOLD)).toBe(false);
		await stub.acquire(req("b"));
		const start = Date.now();
		await runInDurableObject(stub, (instance: Gauge) => {
			instance.clock = () => start + HOLD + 1;
		});
		expect(await stub.renew("b", HOLD)).toBe(false);
		expect(await stub.acquire(req("c"))).toMatchObject({ ok: true, inFlight: 1 });
	});
});
