import { describe, expect, it } from "vitest";
import type { BlockSettings, Plan } from "../src/isolate/block-pool.ts";
import { BlockPool } from "../src/isolate/block-pool.ts";
import { checkInBlock } from "../src/object/blocks.ts";
import { MemoryLeaseStore } from "../src/object/lease-store.ts";
import { LeaseTable } from "../src/object/lease-table.ts";

const SETTINGS: BlockSettings = { max: 4, returnAfterMs: 100, windowMs: 1_000 };
const MAX_HOLD_MS = 5_000;
const spec = (limit: number) => ({ limit, maxHoldMs: MAX_HOLD_MS, dryRun: false, queue: null });

/** One object's table and its refusal memory, answering check-ins at once. */
function object(limit: number) {
	const table = new LeaseTable(new MemoryLeaseStore());
	let lastRefusedAt = Number.NEGATIVE_INFINITY;
	return {
		table,
		answer(pool: BlockPool, plan: Plan, now: number) {
			const { answer, refused } = checkInBlock(table, plan.msg, { limit, waiters: 0, lastRefusedAt }, now);
			if (refused) lastRefusedAt = now;
			pool.answered(plan, answer);
			return answer;
		},
	};
}

/** Admits one request from the pool, checking in (at once) when it is dry. */
function admit(pool: BlockPool, obj: ReturnType<typeof object>, limit: number, now: number) {
	const held = pool.take(now);
	if (held) return held;
	const plan = pool.plan(now, spec(limit), { need: true });
	if (!plan) return null;
	obj.answer(pool, plan, now);
	return pool.take(now);
}

describe("an isolate's block pool", () => {
	it("starts at k = 1 and grows (doubling, with headroom over what is in use) while local demand runs the pool dry, up to max; beyond it, single permits", () => {
		const obj = object(100);
		const pool = new BlockPool(SETTINGS);
		const counts: number[] = [];
		for (let i = 0; i < SETTINGS.max; i++) {
			expect(admit(pool, obj, 100, 0)).not.toBeNull();
			counts.push(pool.current?.count ?? 0);
		}
		expect(counts).toEqual([1, 3, 3, 4]);
		// The block is at max and all in use: no check-in (the Worker asks for a single permit instead).
		expect(pool.take(0)).toBeNull();
		expect(pool.plan(0, spec(100), { need: true })).toBeNull();
		expect(obj.table.inFlight(0)).toBe(SETTINGS.max);
	});

	it("never admits more than the limit across isolates; a refusal puts pressure on the holder, whose next check-in returns its spares", () => {
		const limit = 4;
		const obj = object(limit);
		const a = new BlockPool(SETTINGS);
		const b = new BlockPool(SETTINGS);
		// A's demand grows its block to the whole limit, then falls to one request.
		const taken = [0, 1, 2, 3].map(() => admit(a, obj, limit, 0));
		expect(taken.every((t) => t !== null)).toBe(true);
		for (const t of taken.slice(1)) if (t) a.put(t, 10, 10);
		expect(a.spares).toBe(3);
		// B is refused: the object has nothing free (A parks 3).
		expect(admit(b, obj, limit, 20)).toBeNull();
		// A still has a request, so within returnAfterMs its check-in is due; the answer carries the pressure.
		expect(a.checkInDue(20 + SETTINGS.returnAfterMs)).toBe(true);
		const plan = a.plan(20 + SETTINGS.returnAfterMs, spec(limit), { need: false });
		if (!plan) throw new Error("no plan");
		const answer = obj.answer(a, plan, 20 + SETTINGS.returnAfterMs);
		expect(answer.pressure.refusing).toBe(true);
		// Under pressure the follow-up check-in keeps only what is in use.
		expect(a.checkInDue(20 + SETTINGS.returnAfterMs)).toBe(true);
		const shrink = a.plan(20 + SETTINGS.returnAfterMs, spec(limit), { need: false });
		if (!shrink) throw new Error("no plan");
		obj.answer(a, shrink, 20 + SETTINGS.returnAfterMs);
		expect(a.spares).toBe(0);
		expect(admit(b, obj, limit, 30 + SETTINGS.returnAfterMs)).not.toBeNull();
		expect(obj.table.inFlight(30 + SETTINGS.returnAfterMs)).toBeLessThanOrEqual(limit);
	});

	it("the last request's hand-back: an idle pool gives its whole block back after returnAfterMs", () => {
		const obj = object(10);
		const pool = new BlockPool(SETTINGS);
		const held = admit(pool, obj, 10, 0);
		if (!held) throw new Error("refused");
		pool.put(held, 5, 5);
		expect(pool.idle(5 + SETTINGS.returnAfterMs - 1)).toBe(false);
		expect(pool.idle(5 + SETTINGS.returnAfterMs)).toBe(true);
		pool.handBack(5 + SETTINGS.returnAfterMs);
		expect(pool.current).toBeNull();
		const [plan] = pool.returns(spec(10));
		if (!plan) throw new Error("no hand-back");
		expect(plan.msg.want).toBe(0);
		obj.answer(pool, plan, 5 + SETTINGS.returnAfterMs);
		expect(obj.table.inFlight(5 + SETTINGS.returnAfterMs)).toBe(0);
	});

	it("a frozen isolate parks at most its block, until its last check-in + windowMs + maxHoldMs", () => {
		const limit = 4;
		const obj = object(limit);
		const frozen = new BlockPool(SETTINGS);
		for (let i = 0; i < 4; i++) admit(frozen, obj, limit, 0);
		const parked = frozen.current?.count ?? 0;
		expect(parked).toBeLessThanOrEqual(SETTINGS.max);
		// It never runs again. Its admission window closes at windowMs; the lease ends maxHoldMs later.
		expect(frozen.take(SETTINGS.windowMs + 1)).toBeNull();
		expect(obj.table.inFlight(SETTINGS.windowMs + MAX_HOLD_MS - 1)).toBe(parked);
		expect(obj.table.inFlight(SETTINGS.windowMs + MAX_HOLD_MS)).toBe(0);
	});

	it("a lowered limit recalls blocks: the next answer says so and the block shrinks to what is in use", () => {
		const table = new LeaseTable(new MemoryLeaseStore());
		const pool = new BlockPool(SETTINGS);
		const ctx = (limit: number) => ({ limit, waiters: 0, lastRefusedAt: Number.NEGATIVE_INFINITY });
		for (let i = 0; i < 4; i++) {
			if (pool.take(0)) continue;
			const plan = pool.plan(0, spec(8), { need: true });
			if (plan) pool.answered(plan, checkInBlock(table, plan.msg, ctx(8), 0).answer);
			pool.take(0);
		}
		const held = pool.current;
		if (!held) throw new Error("no block");
		// Two requests end; the limit drops to 1 while two are still at the origin.
		pool.put(held, 1, 1);
		pool.put(held, 1, 1);
		const renew = pool.plan(2, spec(1), { need: false });
		if (!renew) throw new Error("no plan");
		const answer = checkInBlock(table, renew.msg, ctx(1), 2).answer;
		pool.answered(renew, answer);
		expect(answer.pressure.recall).toBe(true);
		const shrink = pool.plan(3, spec(1), { need: false });
		if (!shrink) throw new Error("no plan");
		pool.answered(shrink, checkInBlock(table, shrink.msg, ctx(1), 3).answer);
		expect(pool.current?.count).toBe(2);
		expect(pool.take(3)).toBeNull();
	});

	it("a cut exchange's permit stays in use for its grace (cutRelease), then goes back without any timer", () => {
		const obj = object(10);
		const pool = new BlockPool(SETTINGS);
		const block = admit(pool, obj, 10, 0);
		if (!block) throw new Error("no permit");
		const cut = pool.hold(block, 0, MAX_HOLD_MS);
		// Fill the block, then one request is cut at t = 10 with a 300 ms grace.
		while (pool.take(0)) {}
		const count = block.count;
		pool.end(cut, 10, 300);
		pool.sweep(200);
		expect(pool.take(200)).toBeNull();
		expect(pool.inUse).toBe(count);
		// At the grace's end it is free again, counted as a release with its hold time up to then, not as a leak.
		pool.sweep(310);
		expect(pool.inUse).toBe(count - 1);
		expect(pool.report.holdsMs).toContain(310);
		expect(pool.report.reaped).toBe(0);
		expect(pool.take(311)).toBe(block);
		// A second end of the same permit changes nothing.
		pool.end(cut, 400);
		expect(pool.inUse).toBe(count);
	});

	it("a permit whose release never comes is taken back at admission + maxHoldMs and reported reaped, as a lease would expire", () => {
		const obj = object(10);
		const pool = new BlockPool(SETTINGS);
		const block = admit(pool, obj, 10, 0);
		if (!block) throw new Error("no permit");
		const lost = pool.hold(block, 0, MAX_HOLD_MS);
		const ok = pool.take(0) ? pool.hold(block, 0, MAX_HOLD_MS) : null;
		const inUse = pool.inUse;
		pool.sweep(MAX_HOLD_MS - 1);
		expect(pool.inUse).toBe(inUse);
		if (ok) pool.end(ok, 100);
		pool.sweep(MAX_HOLD_MS);
		expect(pool.inUse).toBe(0);
		expect(pool.report.reaped).toBe(1);
		// Its late release (if it ever came) is ignored: nothing is given back twice.
		pool.end(lost, MAX_HOLD_MS + 1);
		expect(pool.inUse).toBe(0);
		expect(pool.report.released).toBe(ok ? 1 : 0);
	});
});
