import { describe, expect, it } from "vitest";
import { MemoryLeaseStore } from "../src/object/lease-store.ts";
import { LeaseTable } from "../src/object/lease-table.ts";

const HOLD = 10_000;
const req = (leaseId: string, limit = 2) => ({ leaseId, limit, maxHoldMs: HOLD });

function table(): LeaseTable {
	return new LeaseTable(new MemoryLeaseStore());
}

describe("LeaseTable", () => {
	it("grants up to the limit, refuses the next, and grants again after a release", () => {
		const t = table();
		expect(t.acquire(req("a"), 0)).toMatchObject({ ok: true, inFlight: 1 });
		expect(t.acquire(req("b"), 0)).toMatchObject({ ok: true, inFlight: 2 });
		expect(t.acquire(req("c"), 0)).toMatchObject({ ok: false, reason: "full", inFlight: 2, limit: 2 });
		expect(t.release("a", 5, HOLD)).toBe(true);
		expect(t.acquire(req("c"), 5)).toMatchObject({ ok: true, inFlight: 2 });
		expect(t.counters).toEqual({ admitted: 3, refused: 1, released: 1, reaped: 0, dryRunRefused: 0, queued: 0, shed: 0 });
	});

	it("is idempotent on the lease id: a repeated acquire takes no second permit", () => {
		const t = table();
		const first = t.acquire(req("a"), 0);
		expect(t.acquire(req("a"), 1)).toEqual(first);
		expect(t.inFlight(1)).toBe(1);
		expect(t.counters.admitted).toBe(1);
	});

	it("release is idempotent and only the first frees a permit", () => {
		const t = table();
		t.acquire(req("a"), 0);
		expect(t.release("a", 1, HOLD)).toBe(true);
		expect(t.release("a", 2, HOLD)).toBe(false);
		expect(t.inFlight(2)).toBe(0);
		expect(t.counters.released).toBe(1);
	});

	it("refuses a late acquire of a lease that was already released (a retried RPC)", () => {
		const t = table();
		t.acquire(req("a"), 0);
		t.release("a", 1, HOLD);
		expect(t.acquire(req("a"), 2)).toMatchObject({ ok: false, reason: "released" });
		expect(t.inFlight(2)).toBe(0);
	});

	it("a release that arrives before its acquire leaves a tombstone the acquire cannot pass", () => {
		const t = table();
		expect(t.release("ghost", 0, HOLD)).toBe(false);
		expect(t.acquire(req("ghost"), 1)).toMatchObject({ ok: false, reason: "released" });
		expect(t.acquire(req("ghost"), HOLD + 1)).toMatchObject({ ok: true });
	});

	it("expires leases at maxHoldMs and counts them as reaped", () => {
		const t = table();
		t.acquire(req("a"), 0);
		t.acquire(req("b"), 100);
		expect(t.acquire(req("c"), HOLD - 1)).toMatchObject({ ok: false });
		expect(t.acquire(req("c"), HOLD)).toMatchObject({ ok: true, inFlight: 2 });
		expect(t.counters.reaped).toBe(1);
		expect(t.reap(HOLD + 100)).toBe(1);
		expect(t.counters.reaped).toBe(2);
	});

	it("does not count released leases (tombstones) as reaped when they expire", () => {
		const t = table();
		t.acquire(req("a"), 0);
		t.release("a", 10, HOLD);
		expect(t.reap(HOLD * 2)).toBe(0);
		expect(t.nextExpiry()).toBeNull();
	});

	it("estimates the wait from the observed hold time", () => {
		const t = table();
		for (let i = 0; i < 50; i++) {
			t.acquire(req(`warm${i}`, 1), i * 1000);
			t.release(`warm${i}`, i * 1000 + 400, HOLD);
		}
		const start = 100_000;
		t.acquire(req("x", 1), start);
		const refused = t.acquire(req("y", 1), start + 100);
		if (refused.ok) throw new Error("expected a refusal");
		// The average hold converges on 400 ms; the permit began 100 ms ago.
		expect(refused.retryAfterMs).toBeGreaterThan(250);
		expect(refused.retryAfterMs).toBeLessThanOrEqual(400);
	});
});
