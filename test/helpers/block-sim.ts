// N simulated isolates, each with its own block pool, against one object's lease table: check-ins travel both
// ways as separate steps (so they overlap with admissions), isolates die, the limit changes, time moves.
import fc from "fast-check";
import { expect } from "vitest";
import type { Block, BlockSettings, Plan } from "../../src/isolate/block-pool.ts";
import { BlockPool, STALE_CHECK_IN_MS } from "../../src/isolate/block-pool.ts";
import { checkInBlock } from "../../src/object/blocks.ts";
import { MemoryLeaseStore } from "../../src/object/lease-store.ts";
import { LeaseTable } from "../../src/object/lease-table.ts";
import type { CheckInAnswer } from "../../src/protocol.ts";

export const ORIGIN_TIMEOUT_MS = 1_000;
export const MAX_HOLD_MS = 2_000;
export const SETTINGS: BlockSettings = { max: 4, returnAfterMs: 100, windowMs: 500 };

export type SimOp =
	| { kind: "arrive"; i: number }
	/** The n-th of the isolate's check-ins on their way reaches the object (they may overtake each other). */
	| { kind: "deliver"; i: number; n: number }
	/** The n-th answer on its way back reaches the isolate (a stale check-in's answer may come after a newer one's). */
	| { kind: "answer"; i: number; n: number }
	/** The answer is lost: the isolate sees a failed call (the object may or may not have run it). */
	| { kind: "lose"; i: number; n: number }
	| { kind: "finish"; i: number; n: number }
	| { kind: "background"; i: number }
	| { kind: "advance"; ms: number }
	| { kind: "die"; i: number }
	| { kind: "limit"; limit: number };

export const ISOLATES = 3;

export const simScenario = fc.record({
	limit: fc.integer({ min: 1, max: 8 }),
	ops: fc.array(
		fc.oneof(
			{ weight: 8, arbitrary: fc.record({ kind: fc.constant("arrive" as const), i: fc.nat(ISOLATES - 1) }) },
			{ weight: 4, arbitrary: fc.record({ kind: fc.constant("deliver" as const), i: fc.nat(ISOLATES - 1), n: fc.nat(3) }) },
			{ weight: 4, arbitrary: fc.record({ kind: fc.constant("answer" as const), i: fc.nat(ISOLATES - 1), n: fc.nat(3) }) },
			{ weight: 1, arbitrary: fc.record({ kind: fc.constant("lose" as const), i: fc.nat(ISOLATES - 1), n: fc.nat(3) }) },
			{ weight: 5, arbitrary: fc.record({ kind: fc.constant("finish" as const), i: fc.nat(ISOLATES - 1), n: fc.nat(7) }) },
			{ weight: 3, arbitrary: fc.record({ kind: fc.constant("background" as const), i: fc.nat(ISOLATES - 1) }) },
			{
				weight: 3,
				arbitrary: fc.record({
					kind: fc.constant("advance" as const),
					// STALE_CHECK_IN_MS: a check-in still on its way is given up, and another may overtake it.
					ms: fc.oneof(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 900 }), fc.constant(STALE_CHECK_IN_MS)),
				}),
			},
			{ weight: 1, arbitrary: fc.record({ kind: fc.constant("die" as const), i: fc.nat(ISOLATES - 1) }) },
			{ weight: 1, arbitrary: fc.record({ kind: fc.constant("limit" as const), limit: fc.integer({ min: 1, max: 8 }) }) },
		),
		{ minLength: 10, maxLength: 150, size: "max" },
	),
});

interface Request {
	readonly blockId: string | null;
	readonly single: string | null;
	readonly admittedAt: number;
	ended: boolean;
	put: () => void;
}

interface Isolate {
	readonly pool: BlockPool;
	alive: boolean;
	diedAt: number;
	/** Check-ins on their way: planned (not yet at the object), or delivered (answer on its way back, computed at `at`). */
	readonly inFlight: { plan: Plan; need: boolean; answer: CheckInAnswer | null; at: number }[];
	readonly requests: Request[];
}

/** What a run saw, for assertions beyond the per-step invariants. */
export interface SimStats {
	admitted: number;
	refused: number;
	/** Highest number of requests at the origin at once. */
	peak: number;
}

/**
 * Runs one scenario, checking after every step:
 * - every request still at the origin is covered by a live lease on the object (a block's count, or a single lease);
 * - the object never grows a block past the limit;
 * - requests at the origin never pass the highest limit in effect within the last windowMs + maxHoldMs;
 * - no block holds more than SETTINGS.max permits (the most a frozen isolate can park);
 * - a dead isolate's blocks are gone from the object windowMs + maxHoldMs after it died.
 */
export function runSim(initialLimit: number, ops: readonly SimOp[]): SimStats {
	let now = 1_000;
	let limit = initialLimit;
	const limits: { at: number; limit: number }[] = [{ at: now, limit }];
	let lastRefusedAt = Number.NEGATIVE_INFINITY;
	const table = new LeaseTable(new MemoryLeaseStore());
	let ids = 0;
	const isolates: Isolate[] = Array.from({ length: ISOLATES }, (_, n) => ({
		pool: new BlockPool(SETTINGS, () => `b${n}-${ids++}`),
		alive: true,
		diedAt: 0,
		inFlight: [],
		requests: [],
	}));
	/** Steps are the model's order of events (several may share one clock time). */
	let step = 0;
	let limitStep = 0;
	/** When each block's cap was last set by its pool's current check-in: the step at which the object computed it. */
	const capSince = new Map<string, number>();
	const stats: SimStats = { admitted: 0, refused: 0, peak: 0 };
	const spec = { limit: 0, maxHoldMs: MAX_HOLD_MS, dryRun: false, queue: null };

	const atOrigin = (r: Request): boolean => !r.ended && now < r.admittedAt + ORIGIN_TIMEOUT_MS;
	const admit = (iso: Isolate): void => {
		const block = iso.pool.take(now);
		if (block) admitWith(iso, block);
		else stats.refused++;
	};
	const admitWith = (iso: Isolate, block: Block): void => {
		stats.admitted++;
		// A block whose cap the object set under the limit in force admits no one past it, whatever other isolates do:
		// the limit holds one round trip after an isolate learns it (6c1c01a: a busy isolate kept reusing permits).
		if ((capSince.get(block.id) ?? Number.NEGATIVE_INFINITY) > limitStep) {
			const atOriginNow = isolates.flatMap((i) => i.requests).filter(atOrigin).length;
			expect(atOriginNow + 1, `admission under ${block.id} after it learnt limit ${limit}`).toBeLessThanOrEqual(limit);
		}
		const admittedAt = now;
		const r: Request = {
			blockId: block.id,
			single: null,
			admittedAt,
			ended: false,
			put: () => {
				iso.pool.put(block, now - admittedAt, now);
				handBack(iso);
			},
		};
		iso.requests.push(r);
	};
	/** The I/O layer hands back every retired block that emptied (delivered at once in this model). */
	const handBack = (iso: Isolate): void => {
		for (const plan of iso.pool.returns({ ...spec, limit })) deliver(plan.msg);
	};
	const deliver = (msg: Plan["msg"]): CheckInAnswer => {
		const before = table.inFlight(now);
		const { answer, refused } = checkInBlock(table, msg, { limit, waiters: 0, lastRefusedAt }, now);
		if (refused) lastRefusedAt = now;
		if (answer.inFlight > before) expect(answer.inFlight).toBeLessThanOrEqual(limit);
		expect(answer.count).toBeLessThanOrEqual(Math.max(msg.want, 0));
		return answer;
	};
	const end = (r: Request): void => {
		if (r.ended) return;
		r.ended = true;
		r.put();
	};

	for (const op of ops) {
		step++;
		const iso = "i" in op ? isolates[op.i] : undefined;
		if (iso && !iso.alive) continue;
		switch (op.kind) {
			case "arrive": {
				if (!iso) break;
				const block = iso.pool.take(now);
				if (block) {
					admitWith(iso, block);
					break;
				}
				iso.pool.noteDry(now);
				// Null while a check-in is on its way (unless it is stale: then it is given up and this one goes).
				const plan = iso.pool.plan(now, { ...spec, limit }, { need: true });
				handBack(iso);
				if (plan) iso.inFlight.push({ plan, need: true, answer: null, at: now });
				else {
					// A check-in is in flight: ask for a single permit, as the Worker does.
					const leaseId = `s${ids++}`;
					const result = table.acquire({ leaseId, limit, maxHoldMs: MAX_HOLD_MS }, now);
					if (!result.ok) {
						lastRefusedAt = now;
						stats.refused++;
						break;
					}
					stats.admitted++;
					iso.requests.push({
						blockId: null,
						single: leaseId,
						admittedAt: now,
						ended: false,
						put: () => void table.release(leaseId, now, MAX_HOLD_MS),
					});
				}
				break;
			}
			case "deliver": {
				const waiting = iso?.inFlight.filter((m) => !m.answer) ?? [];
				const m = waiting[op.n % Math.max(1, waiting.length)];
				if (m) {
					m.answer = deliver(m.plan.msg);
					m.at = step;
				}
				break;
			}
			case "answer": {
				if (!iso) break;
				const back = iso.inFlight.filter((m) => m.answer);
				const m = back[op.n % Math.max(1, back.length)];
				if (!m?.answer) break;
				iso.inFlight.splice(iso.inFlight.indexOf(m), 1);
				const current = iso.pool.checkInSince === m.plan.askedAt && m.plan.block.state === "active";
				iso.pool.answered(m.plan, m.answer);
				if (current) capSince.set(m.plan.block.id, m.at);
				// The request waiting on it takes a permit unless the object refused it (it counted the refusal).
				if (m.need && !m.answer.refused) admit(iso);
				break;
			}
			case "lose": {
				const m = iso?.inFlight[op.n % Math.max(1, iso.inFlight.length)];
				if (iso && m) {
					iso.inFlight.splice(iso.inFlight.indexOf(m), 1);
					iso.pool.failed(m.plan);
					handBack(iso);
				}
				break;
			}
			case "finish": {
				const live = iso?.requests.filter((r) => !r.ended) ?? [];
				const r = live[op.n % Math.max(1, live.length)];
				if (r) end(r);
				break;
			}
			case "background":
				if (iso) {
					// The last request's waitUntil: gives up an overdue check-in, hands back what emptied, then idles or renews.
					iso.pool.sweep(now);
					handBack(iso);
					if (iso.pool.idle(now)) {
						iso.pool.handBack(now);
						handBack(iso);
					} else if (iso.pool.checkInDue(now)) {
						const plan = iso.pool.plan(now, { ...spec, limit }, { need: false });
						handBack(iso);
						if (plan) iso.inFlight.push({ plan, need: false, answer: null, at: now });
					}
				}
				break;
			case "advance":
				now += op.ms;
				// A live isolate ends a request at its deadline (the gate's deadline releases the permit).
				for (const i of isolates) if (i.alive) for (const r of i.requests) if (now >= r.admittedAt + ORIGIN_TIMEOUT_MS) end(r);
				break;
			case "die":
				if (iso) {
					iso.alive = false;
					iso.diedAt = now;
				}
				break;
			case "limit":
				limit = op.limit;
				limitStep = step;
				limits.push({ at: now, limit });
				break;
		}
		checkInvariants();
	}
	return stats;

	function checkInvariants(): void {
		const all = isolates.flatMap((i) => i.requests).filter(atOrigin);
		stats.peak = Math.max(stats.peak, all.length);
		// Coverage: the object holds a live lease for every request still at the origin.
		const perBlock = new Map<string, number>();
		for (const r of all) {
			const id = r.blockId ?? r.single ?? "";
			perBlock.set(id, (perBlock.get(id) ?? 0) + 1);
		}
		for (const [id, n] of perBlock) {
			const lease = table.lease(id);
			const live = lease && lease.state === "live" && lease.expiresAt > now ? (lease.count ?? 1) : 0;
			expect(n, `requests at the origin under ${id}`).toBeLessThanOrEqual(live);
		}
		// Never above the limit (a lowered limit is learnt at the next check-in, within windowMs + maxHoldMs).
		const horizon = now - SETTINGS.windowMs - MAX_HOLD_MS;
		const recent = limits.filter((l, k) => l.at >= horizon || limits[k + 1] === undefined || (limits[k + 1]?.at ?? 0) > horizon);
		expect(all.length).toBeLessThanOrEqual(Math.max(...recent.map((l) => l.limit)));
		// A block never holds more than max: the most a frozen isolate parks.
		for (const i of isolates)
			for (const b of [i.pool.current, ...i.pool.draining]) if (b) expect(b.count).toBeLessThanOrEqual(SETTINGS.max);
		// Idle spares under pressure are due back: whatever the isolate runs next (a request, or the waitUntil of the
		// last one) checks in and returns them. Only a busy isolate (its own demand ran it dry lately) keeps some.
		for (const i of isolates) {
			const b = i.pool.current;
			if (!i.alive || i.inFlight.length > 0 || !b || i.pool.checkInSince !== null) continue;
			if (i.pool.pressure && !i.pool.busy(now) && b.count > b.inUse) expect(i.pool.checkInDue(now)).toBe(true);
		}
		// A dead isolate's blocks are back by their expiry.
		for (const i of isolates) {
			if (i.alive || now < i.diedAt + SETTINGS.windowMs + MAX_HOLD_MS) continue;
			for (const b of [i.pool.current, ...i.pool.draining]) {
				const lease = b ? table.lease(b.id) : null;
				expect(lease === null || lease.state !== "live" || lease.expiresAt <= now).toBe(true);
			}
		}
	}
}
