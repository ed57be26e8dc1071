// Blocks in the corners a review found (issue "blocks exact in every corner"): a busy isolate over a lowered limit,
// a check-in given up as stale, a failed check-in's report, and a leaked permit counted once. The isolate's pool
// against the object's table, on a simulated clock; each scenario failed on 6c1c01a.
import { describe, expect, it } from "vitest";
import type { BlockSettings, Held, Plan } from "../src/isolate/block-pool.ts";
import { BlockPool, STALE_CHECK_IN_MS } from "../src/isolate/block-pool.ts";
import { checkInBlock } from "../src/object/blocks.ts";
import { MemoryLeaseStore } from "../src/object/lease-store.ts";
import { LeaseTable } from "../src/object/lease-table.ts";
import type { CheckIn } from "../src/protocol.ts";

const MAX_HOLD_MS = 5_000;
const spec = (limit: number) => ({ limit, maxHoldMs: MAX_HOLD_MS, dryRun: false, queue: null });
const ctx = (limit: number) => ({ limit, waiters: 0, lastRefusedAt: Number.NEGATIVE_INFINITY });

describe("blocks over a lowered limit", () => {
	it("a busy isolate that learns of the recall admits no one while as many as the new limit are at the origin", () => {
		// One tick is one round trip to the object; each request lasts 3 ticks and 4 arrive per tick (12 wanted at once).
		const RTT = 20;
		const table = new LeaseTable(new MemoryLeaseStore());
		let limit = 100;
		const pool = new BlockPool({ max: 10, returnAfterMs: 100, windowMs: 1_000 });
		const origin: { held: Held; endsAt: number }[] = [];
		let pending = null as Plan | null;
		let learned = false;
		let admittedAfterRecall = 0;
		let overAdmitted = 0;
		const send = (plan: Plan | null) => {
			if (plan) pending = plan;
		};
		for (let tick = 0, now = 0; tick < 60; tick++, now += RTT) {
			if (pending) {
				const answer = checkInBlock(table, pending.msg, ctx(limit), now).answer;
				pool.answered(pending, answer);
				learned ||= answer.pressure.recall;
				pending = null;
			}
			if (tick === 10) limit = 4; // PUT …/limit {"limit": 4}
			for (const r of origin.filter((r) => r.endsAt <= tick)) {
				origin.splice(origin.indexOf(r), 1);
				pool.end(r.held, now);
				if (!pending && pool.checkInDue(now)) send(pool.plan(now, spec(limit), { need: false }));
			}
			for (let i = 0; i < 4; i++) {
				const block = pool.take(now);
				if (block) {
					if (learned) {
						admittedAfterRecall++;
						if (origin.length >= limit) overAdmitted++;
					}
					origin.push({ held: pool.hold(block, now, MAX_HOLD_MS), endsAt: tick + 3 });
					if (!pending && pool.checkInDue(now)) send(pool.plan(now, spec(limit), { need: false }));
				} else {
					pool.noteDry(now);
					if (!pending) send(pool.plan(now, spec(limit), { need: true }));
				}
			}
			// The object never counts fewer permits for the block than are in use under it.
			const counted = table.lease(pool.current?.id ?? "")?.count ?? 0;
			if (pool.current) expect(pool.current.inUse).toBeLessThanOrEqual(counted);
		}
		expect(learned).toBe(true);
		// It keeps serving within the new limit (a recall is not an outage)...
		expect(admittedAfterRecall).toBeGreaterThan(0);
		// ...but never admits while the origin already has as many as the new limit (6c1c01a: 9 such admissions).
		expect(overAdmitted).toBe(0);
	});
});

describe("every retired block goes back, with the report", () => {
	const settings: BlockSettings = { max: 4, returnAfterMs: 100, windowMs: 1_000 };

	/** A pool with block X of 4 permits, none in use; its one request reported admitted and released. */
	function idleBlock(table: LeaseTable) {
		let ids = 0;
		const pool = new BlockPool(settings, () => `b${ids++}`);
		pool.k = 4;
		const first = pool.plan(0, spec(4), { need: true });
		if (!first) throw new Error("no plan");
		pool.answered(first, checkInBlock(table, first.msg, ctx(4), 0).answer);
		const x = pool.take(0);
		if (!x) throw new Error("no permit");
		pool.end(pool.hold(x, 0, MAX_HOLD_MS), 50);
		return { pool, x };
	}

	/** What the I/O layer sends for the pool's retired blocks (the real one sends each as a check-in asking for 0). */
	function handBacks(pool: BlockPool, table: LeaseTable, now: number): CheckIn[] {
		const msgs = pool.returns(spec(4)).map((p) => p.msg);
		for (const msg of msgs) checkInBlock(table, msg, ctx(4), now);
		return msgs;
	}

	it("a check-in given up as stale hands its idle block back at once, and its late answer cannot bring it back", () => {
		const table = new LeaseTable(new MemoryLeaseStore());
		const { pool, x } = idleBlock(table);
		// X's renewal is sent at 600 (window half gone) and the object is slow to answer it.
		expect(pool.checkInDue(600)).toBe(true);
		const slow = pool.plan(600, spec(4), { need: false });
		if (!slow) throw new Error("no plan");
		// 2 s later a request finds the pool dry: the slow check-in is given up, and a new block asked for.
		const t = 600 + STALE_CHECK_IN_MS;
		expect(pool.take(t)).toBeNull();
		const next = pool.plan(t, spec(4), { need: true });
		if (!next) throw new Error("no plan");
		expect(next.block.id).not.toBe(x.id);
		expect(x.state).toBe("returned");
		expect(handBacks(pool, table, t).map((m) => m.blockId)).toEqual([x.id]);
		// The new block gets the whole limit: X's permits are not parked at the object (6c1c01a: refused by them).
		const { answer } = checkInBlock(table, next.msg, ctx(4), t);
		expect(answer.refused).toBe(false);
		pool.answered(next, answer);
		expect(pool.take(t)).not.toBeNull();
		// The slow renewal lands at last: it finds X given back and changes nothing.
		const late = checkInBlock(table, slow.msg, ctx(4), t + 100).answer;
		expect(late.alive).toBe(false);
		pool.answered(slow, late);
		expect(table.lease(x.id)?.state).toBe("released");
		expect(table.inFlight(t + 100)).toBe(answer.count);
	});

	it("a check-in given up as stale while the isolate idles: the idle hand-back gives the block back", () => {
		const table = new LeaseTable(new MemoryLeaseStore());
		const { pool, x } = idleBlock(table);
		const slow = pool.plan(600, spec(4), { need: false });
		if (!slow) throw new Error("no plan");
		// No request comes; the last one's waitUntil wakes after the check-in is overdue.
		pool.sweep(600 + STALE_CHECK_IN_MS);
		pool.handBack(600 + STALE_CHECK_IN_MS);
		expect(handBacks(pool, table, 600 + STALE_CHECK_IN_MS).map((m) => m.blockId)).toEqual([x.id]);
		expect(table.inFlight(600 + STALE_CHECK_IN_MS)).toBe(0);
	});

	it("a failed check-in's report goes out with the hand-back of its block, even when no block is left to check in", () => {
		const table = new LeaseTable(new MemoryLeaseStore());
		const pool = new BlockPool(settings);
		pool.k = 3;
		const first = pool.plan(0, spec(10), { need: true });
		if (!first) throw new Error("no plan");
		pool.answered(first, checkInBlock(table, first.msg, ctx(10), 0).answer);
		const a = pool.take(0);
		const b = pool.take(0);
		if (!a || !b) throw new Error("no permits");
		const ha = pool.hold(a, 0, MAX_HOLD_MS);
		const hb = pool.hold(b, 0, MAX_HOLD_MS);
		// The renewal carrying the two admissions fails (object overloaded): the block is retired, two still in use.
		const renew = pool.plan(600, spec(10), { need: false });
		if (!renew) throw new Error("no plan");
		expect(renew.msg.report?.admitted).toBe(2);
		pool.failed(renew);
		expect(pool.current).toBeNull();
		expect(pool.returns(spec(10))).toEqual([]);
		pool.end(ha, 700);
		pool.end(hb, 700);
		// The block's hand-back carries everything not yet delivered: both admissions and both releases.
		const [giveBack, ...more] = pool.returns(spec(10));
		expect(more).toEqual([]);
		expect(giveBack?.msg.want).toBe(0);
		expect(giveBack?.msg.report).toMatchObject({ admitted: 2, released: 2 });
		// Nothing is left waiting for a call that will never come (6c1c01a: stranded until a request found the pool dry).
		expect(pool.reportDue()).toBe(false);
		expect(pool.report.admitted + pool.report.released).toBe(0);
		// Should that hand-back fail too, its report is put back, and due on its own (no block left to carry it).
		pool.requeue(giveBack?.msg.report ?? null);
		expect(pool.reportDue()).toBe(true);
		expect(pool.takeReport()).toMatchObject({ admitted: 2, released: 2 });
	});

	it("a permit taken back at its deadline is reported reaped, not also released", () => {
		const table = new LeaseTable(new MemoryLeaseStore());
		const pool = new BlockPool(settings);
		const first = pool.plan(0, spec(10), { need: true });
		if (!first) throw new Error("no plan");
		pool.answered(first, checkInBlock(table, first.msg, ctx(10), 0).answer);
		const block = pool.take(0);
		if (!block) throw new Error("no permit");
		pool.hold(block, 0, MAX_HOLD_MS);
		pool.sweep(MAX_HOLD_MS);
		// admitted − released − reaped is what is still in flight (0): 6c1c01a counted it released and reaped.
		expect(pool.report).toMatchObject({ admitted: 1, released: 0, reaped: 1 });
	});
});
