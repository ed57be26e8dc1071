// Races between an isolate's check-ins: answers that come back late, or out of order, must never let the pool
// use more of a block than the object holds for it.
import { describe, expect, it } from "vitest";
import type { BlockSettings, Plan } from "../src/isolate/block-pool.ts";
import { BlockPool, STALE_CHECK_IN_MS } from "../src/isolate/block-pool.ts";
import { checkInBlock } from "../src/object/blocks.ts";
import { MemoryLeaseStore } from "../src/object/lease-store.ts";
import { LeaseTable } from "../src/object/lease-table.ts";
import type { CheckInAnswer } from "../src/protocol.ts";

const MAX_HOLD_MS = 5_000;
const spec = (limit: number) => ({ limit, maxHoldMs: MAX_HOLD_MS, dryRun: false, queue: null });

function object(limit: number) {
	const table = new LeaseTable(new MemoryLeaseStore());
	return {
		table,
		/** The object runs the check-in now; the isolate sees the answer whenever the test hands it over. */
		deliver: (plan: Plan, now: number, refusedAt = Number.NEGATIVE_INFINITY): CheckInAnswer =>
			checkInBlock(table, plan.msg, { limit, waiters: 0, lastRefusedAt: refusedAt }, now).answer,
		/** Permits the object holds for a block now (0: none). */
		count(id: string, now: number): number {
			const lease = table.lease(id);
			return lease && lease.state === "live" && lease.expiresAt > now ? (lease.count ?? 1) : 0;
		},
	};
}

/** Takes every permit the pool will give for `block` at `now`; returns how many are in use under it after. */
function fill(pool: BlockPool, id: string, now: number): number {
	while (pool.take(now)) {}
	const b = [pool.current, ...pool.draining].find((x) => x?.id === id);
	return b?.inUse ?? 0;
}

describe("an isolate's block pool under late check-in answers", () => {
	it("a stale check-in's late answer does not open a second check-in on the new block (which could land out of order)", () => {
		const settings: BlockSettings = { max: 4, returnAfterMs: 100, windowMs: 1_000 };
		const obj = object(8);
		let ids = 0;
		const pool = new BlockPool(settings, () => `b${ids++}`);
		// A block X of 1, in use; its renewal (A) is sent at 600 and hangs.
		let t = 0;
		const first = pool.plan(t, spec(8), { need: true });
		if (!first) throw new Error("no plan");
		pool.answered(first, obj.deliver(first, t));
		expect(pool.take(t)).not.toBeNull();
		t = 600;
		expect(pool.checkInDue(t)).toBe(true);
		const a = pool.plan(t, spec(8), { need: false });
		if (!a) throw new Error("no plan");
		// 2 s later a request finds the pool dry: A is given up, X retired, and B asks for a new block Y.
		t += STALE_CHECK_IN_MS;
		expect(pool.take(t)).toBeNull();
		pool.k = 4;
		const b = pool.plan(t, spec(8), { need: true });
		if (!b) throw new Error("no plan");
		const y = b.block.id;
		// A's answer comes back at last (it said the object is refusing someone: pressure).
		pool.answered(a, obj.deliver(a, t, t));
		// B is still on its way: another request must not start a check-in C on Y (it asks for a single permit).
		const c = pool.plan(t + 1, spec(8), { need: true });
		if (c) {
			// Were it sent, the object runs B then C (C, under pressure, asks Y down to what is in use + 1)...
			const answerB = obj.deliver(b, t + 2);
			obj.deliver(c, t + 3);
			// ...and B's answer, arriving first, must not let the pool use more of Y than the object holds.
			pool.answered(b, answerB);
			expect(fill(pool, y, t + 4)).toBeLessThanOrEqual(obj.count(y, t + 4));
		}
		expect(c).toBeNull();
		expect(pool.checkInSince).toBe(t);
	});

	it("a stale check-in's late answer never revives a retired block the isolate already gave back", () => {
		// A long returnAfterMs gives an admission window longer than STALE_CHECK_IN_MS.
		const settings: BlockSettings = { max: 4, returnAfterMs: 1_500, windowMs: 3_000 };
		const obj = object(8);
		let ids = 0;
		const pool = new BlockPool(settings, () => `b${ids++}`);
		let t = 0;
		const first = pool.plan(t, spec(8), { need: true });
		if (!first) throw new Error("no plan");
		pool.answered(first, obj.deliver(first, t));
		const x = pool.take(t);
		if (!x) throw new Error("no permit");
		// Renewal A of X at 1600; the object runs it, but its answer is slow.
		t = 1_600;
		const a = pool.plan(t, spec(8), { need: false });
		if (!a) throw new Error("no plan");
		const answerA = obj.deliver(a, t);
		// 2 s later: A is stale, X is retired; its last request ends, and X is given back (want 0).
		t += STALE_CHECK_IN_MS;
		const b = pool.plan(t, spec(8), { need: false });
		expect(b).not.toBeNull();
		pool.put(x, 10, t);
		const [giveBack, ...more] = pool.returns(spec(8));
		expect(more).toEqual([]);
		expect(giveBack?.block.id).toBe(x.id);
		if (!giveBack) throw new Error("no hand-back");
		checkInBlock(obj.table, giveBack.msg, { limit: 8, waiters: 0, lastRefusedAt: Number.NEGATIVE_INFINITY }, t);
		expect(obj.count(x.id, t)).toBe(0);
		// A's answer lands: X must not become usable again (the object no longer holds anything for it).
		pool.answered(a, answerA);
		expect(fill(pool, x.id, t + 1)).toBeLessThanOrEqual(obj.count(x.id, t + 1));
	});

	it("a failed check-in loses no report, and hands back a block the isolate no longer uses", () => {
		const settings: BlockSettings = { max: 4, returnAfterMs: 100, windowMs: 1_000 };
		const obj = object(8);
		const pool = new BlockPool(settings);
		const first = pool.plan(0, spec(8), { need: true });
		if (!first) throw new Error("no plan");
		pool.answered(first, obj.deliver(first, 0));
		const block = pool.take(0);
		if (!block) throw new Error("no permit");
		pool.put(block, 7, 10);
		// The renewal carrying that admission and release fails (its outcome unknown).
		const renew = pool.plan(600, spec(8), { need: false });
		if (!renew) throw new Error("no plan");
		expect(renew.msg.report?.released).toBe(1);
		pool.failed(renew);
		// The next call carries the report again (a count may be reported twice; none is lost)...
		expect(pool.report.admitted).toBe(1);
		expect(pool.report.released).toBe(1);
		expect(pool.report.holdsMs).toEqual([7]);
		// ...and the block, with nothing in use, is handed back at once rather than parked until its lease ends:
		// the hand-back is that next call.
		const [giveBack] = pool.returns(spec(8));
		expect(giveBack?.block.id).toBe(block.id);
		expect(giveBack?.msg.want).toBe(0);
		expect(giveBack?.msg.report?.released).toBe(1);
		expect(pool.current).toBeNull();
	});

	it("after a lowered limit, a check-in a request waits on admits no one from the block's old spares", () => {
		const settings: BlockSettings = { max: 8, returnAfterMs: 100, windowMs: 1_000 };
		const table = new LeaseTable(new MemoryLeaseStore());
		const ctx = (limit: number) => ({ limit, waiters: 0, lastRefusedAt: Number.NEGATIVE_INFINITY });
		const pool = new BlockPool(settings);
		pool.k = 6;
		const first = pool.plan(0, spec(10), { need: true });
		if (!first) throw new Error("no plan");
		pool.answered(first, checkInBlock(table, first.msg, ctx(10), 0).answer);
		expect(pool.current?.count).toBe(6);
		// Two long requests under the block; then nothing runs here until the admission window has closed.
		pool.take(0);
		pool.take(0);
		// Meanwhile the limit drops to 1 (PUT …/limit): the object already counts 6, two of them at the origin.
		const t = settings.windowMs + 1;
		expect(pool.take(t)).toBeNull();
		const plan = pool.plan(t, spec(10), { need: true });
		if (!plan) throw new Error("no plan");
		const { answer } = checkInBlock(table, plan.msg, ctx(1), t);
		pool.answered(plan, answer);
		// The waiting request must be refused: admitting it would put a third request at the origin, limit 1.
		expect(answer.refused).toBe(true);
		expect(answer.pressure.recall).toBe(true);
		expect(pool.take(t)).toBeNull();
		expect(table.inFlight(t)).toBe(2);
	});
});
