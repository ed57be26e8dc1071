// Who gets the permits when there are not enough (issue 21), as the route's object decides it: fair shares among keys,
// priority classes, the queue's order and adaptive mode, and Retry-After spread by place in line. The object (durable-
// object.ts) calls in at a few points; the rules themselves are the pure modules this one composes.

import { lineCapMs, RetryLine, retryAfterIn, slotMsOf } from "../responses/retry-line.ts";
import type { FairDecision } from "./fair-admission.ts";
import type { FairStatus, Holdings } from "./fair-keys.ts";
import { FairKeys, holdingsOf } from "./fair-keys.ts";
import type { AcquireRequest, AcquireResult, LeaseTable, RefusalReason } from "./lease-table.ts";
import type { ClassDecision } from "./priority.ts";
import { classAdmit, classLoad } from "./priority.ts";
import type { CodelConfig, CodelSettings, QueueMode } from "./queue-order.ts";
import { AdaptiveQueue, codelSettings, nextWaiter } from "./queue-order.ts";
import type { Waiter, WaitQueue } from "./wait-queue.ts";

/** Per class index (0: most critical): in flight and queued now, admitted and refused since the object started. */
export interface ClassStats {
	readonly inFlight: number[];
	readonly queued: number[];
	readonly admitted: number[];
	readonly refused: number[];
}

/** What a status shows of it. */
export interface SharingStatus {
	/** On a fair route (perKey.fair): contention, active keys and the largest fair share now; null elsewhere. */
	readonly fair: FairStatus | null;
	/** On a route with classes; null elsewhere. */
	readonly classes: ClassStats | null;
	/** On a route whose queue is adaptive: serving newest first ("lifo") or oldest first, and whether CoDel is shedding. */
	readonly queueMode: { readonly mode: QueueMode; readonly shedding: boolean } | null;
}

export class Sharing {
	/** A fair route's active keys and contention (in memory: a restart forgets recent demand, never a lease). */
	private readonly fair = new FairKeys();
	/** The last fair request seen: a status reports fair shares against its limit. */
	private fairReq: AcquireRequest | null = null;
	/** Admitted and refused per class index, on a route with classes (in memory, like the other counters). */
	private classCounts: { admitted: number[]; refused: number[] } | null = null;
	/** The refused clients' retry slots (Retry-After): one line for those under their share, one for those over it. */
	private readonly lines = { under: new RetryLine(), over: new RetryLine() };
	/** On a route whose queue is adaptive: its mode (FIFO or LIFO) and CoDel state (in memory, like the waiters). */
	private codel: AdaptiveQueue | null = null;
	/** Its target and interval as the last adaptive request gave them: fixed numbers, or absent for auto (from the mean hold). */
	private codelConfig: CodelConfig = {};
	private readonly table: LeaseTable;
	private readonly queue: WaitQueue;
	private readonly limitFor: (req: AcquireRequest, now: number) => number;
	private readonly random: () => number;

	constructor(table: LeaseTable, queue: WaitQueue, limitFor: (req: AcquireRequest, now: number) => number, random: () => number) {
		this.table = table;
		this.queue = queue;
		this.limitFor = limitFor;
		this.random = random;
	}

	/** A request arrives: its key's want counts toward its recent demand, and an adaptive queue starts keeping state. */
	arrived(req: AcquireRequest, now: number): void {
		if (req.fair && req.holder) {
			this.fairReq = req;
			this.fair.asked(req.holder, this.holdings(now), now);
		}
		if (req.queue?.adaptive) {
			this.codel ??= new AdaptiveQueue(now);
			this.codelConfig = req.queue.adaptive;
		}
	}

	/** Someone was refused: a fair route is contended for a while. */
	refused(now: number): void {
		this.fair.refused(now);
	}

	/** The queue's length changed (adaptive LIFO starts once it has not been empty for an interval). */
	queueChanged(now: number): void {
		this.codel?.observe(this.queue.length, now);
	}

	/** Waiters are served by class, share and time (not plain FIFO): on a fair route, one with classes, or an adaptive queue. */
	ordered(head: Waiter): boolean {
		return head.req.fair === true || head.req.priority !== undefined || this.codel !== null;
	}

	/** Why the request's class cap or its key's fair share does not allow one more permit now; null when they do. */
	blocker(req: AcquireRequest, now: number): "class-full" | "over-share" | "full" | null {
		const cls = this.classDecision(req, now);
		if (cls?.ok === false) return cls.reason;
		const fair = this.fairness(req, now);
		return fair?.ok === false ? fair.reason : null;
	}

	/** Room in the queue for a request's class: a class with those below it may fill its headroom's part of the queue. */
	queueRoomFor(req: AcquireRequest): boolean {
		if (!req.priority || !req.queue) return true;
		const { index, headrooms } = req.priority;
		return classAdmit(req.queue.size, headrooms, classLoad(this.queuedByClass(), headrooms.length), index).ok;
	}

	/**
	 * The waiter a freed permit goes to: the most critical class first, then the key furthest below its share, then the
	 * oldest (newest in LIFO mode); a waiter its class or key may not take yet is skipped, not blocking the others.
	 */
	pickWaiter(head: Waiter, now: number): Waiter | undefined {
		const gaps = head.req.fair ? this.fair.gaps(this.limitFor(head.req, now), this.holdings(now), now) : null;
		const queued = this.queue.all().map((w) => ({
			w,
			priority: w.req.priority?.index ?? 0,
			gap: (w.req.holder && gaps?.get(w.req.holder)) || 0,
			enqueuedAt: w.at ?? 0,
		}));
		return nextWaiter(queued, this.codel?.mode(now, this.codelNow()) ?? "fifo", ({ w }) => this.blocker(w.req, now) === null)?.w;
	}

	/** CoDel: true when a waiter about to be served must be shed instead (a standing queue). */
	shed(waiter: Waiter, now: number): boolean {
		return this.codel?.shed(now - (waiter.at ?? now), now, this.codelNow()) ?? false;
	}

	/** Counts an answer to a request of some class: admitted, or refused (not when tentative, cancelled or a duplicate). */
	countClass(req: AcquireRequest, result: { ok: true } | { ok: false; reason: RefusalReason }): void {
		if (!req.priority || req.tentative || (!result.ok && (result.reason === "cancelled" || result.reason === "released"))) return;
		const n = req.priority.headrooms.length;
		const counts = this.classCounts?.admitted.length === n ? this.classCounts : grow(this.classCounts, n);
		this.classCounts = counts;
		const row = result.ok ? counts.admitted : counts.refused;
		row[req.priority.index] = (row[req.priority.index] ?? 0) + 1;
	}

	/** Refusals isolates answered from memory, per class index (reported in batches): counted with the object's own. */
	countLocalClassRefusals(byClass: readonly number[]): void {
		const n = Math.max(this.classCounts?.admitted.length ?? 0, byClass.length);
		const counts = this.classCounts?.admitted.length === n ? this.classCounts : grow(this.classCounts, n);
		this.classCounts = counts;
		for (const [i, k] of byClass.entries()) counts.refused[i] = (counts.refused[i] ?? 0) + Math.max(0, k);
	}

	/**
	 * A refusal's Retry-After: the next slot of the retry line (src/responses/retry-line.ts), so the clients refused together, or
	 * refused again, do not all come back in the same second. A caller that gave up, a duplicate, and a tentative try
	 * (another shard answers for the request) keep the plain estimate.
	 */
	spread(result: AcquireResult, req: AcquireRequest, now: number): AcquireResult {
		const holdMs = this.table.holdEwmaMs;
		if (result.ok) {
			// A grant that took the last permit tells its isolate the line the next refusals join (it may refuse them itself).
			if (result.inFlight < result.limit || req.tentative) return result;
			const freeInMs = this.table.estimateWait(now);
			return { ...result, line: { freeInMs, slotMs: slotMsOf(holdMs, this.lineLimit(req, now), false), capMs: lineCapMs(holdMs) } };
		}
		if (req.tentative || result.reason === "cancelled" || result.reason === "released") return result;
		const overShare = result.reason === "over-share" || result.reason === "class-full";
		const slot = (overShare ? this.lines.over : this.lines.under).take(
			now,
			result.retryAfterMs,
			slotMsOf(holdMs, this.lineLimit(req, now), overShare),
			lineCapMs(holdMs),
			this.random(),
		);
		const line = { freeInMs: Math.max(0, result.retryAfterMs), slotMs: slot.slotMs, capMs: slot.capMs };
		return { ...result, retryAfterMs: retryAfterIn(slot, this.random()), line };
	}

	/**
	 * The permits the retry line is paced by: the limit in force, or on an adaptive route its ceiling. A learned limit
	 * is still probing upward, and a line paced by today's (small) limit would keep away the demand it learns from.
	 */
	private lineLimit(req: AcquireRequest, now: number): number {
		return Math.max(this.limitFor(req, now), req.adaptive?.max ?? 0);
	}

	status(now: number): SharingStatus {
		this.queueChanged(now);
		return {
			fair: this.fairReq ? this.fair.status(this.limitFor(this.fairReq, now), this.holdings(now), now) : null,
			classes: this.classStatus(now),
			queueMode: this.codel ? { mode: this.codel.mode(now, this.codelNow()), shedding: this.codel.shedding } : null,
		};
	}

	/** CoDel's target and interval now: the config's, or auto from the route's mean hold time (queue-order.ts). */
	private codelNow(): CodelSettings {
		return codelSettings(this.codelConfig, this.table.holdEwmaMs);
	}

	/** What a fair decision sees: permits and waiters per key. */
	private holdings(now: number): Holdings {
		return holdingsOf(this.table.holderCounts(now), this.queue.holders(), this.queue.length);
	}

	/** On a route with classes, whether the request's class may take one more permit now; null without classes. */
	private classDecision(req: AcquireRequest, now: number): ClassDecision | null {
		if (!req.priority) return null;
		const { index, headrooms } = req.priority;
		return classAdmit(this.limitFor(req, now), headrooms, classLoad(this.table.classCounts(now), headrooms.length), index);
	}

	/** On a fair route, whether the request's key may take one more permit now; null for a request that is not fair. */
	private fairness(req: AcquireRequest, now: number): FairDecision | null {
		if (!req.fair || !req.holder) return null;
		return this.fair.decide(req.holder, this.limitFor(req, now), this.holdings(now), now);
	}

	private queuedByClass(): Map<number | null, number> {
		const counts = new Map<number | null, number>();
		for (const w of this.queue.all()) counts.set(w.req.priority?.index ?? null, (counts.get(w.req.priority?.index ?? null) ?? 0) + 1);
		return counts;
	}

	private classStatus(now: number): ClassStats | null {
		const counts = this.classCounts;
		if (!counts) return null;
		const n = counts.admitted.length;
		return {
			inFlight: classLoad(this.table.classCounts(now), n),
			queued: classLoad(this.queuedByClass(), n),
			admitted: [...counts.admitted],
			refused: [...counts.refused],
		};
	}
}

/** Per-class counts sized for `n` classes, keeping what was counted for the classes that remain. */
function grow(counts: { admitted: number[]; refused: number[] } | null, n: number): { admitted: number[]; refused: number[] } {
	const fill = (row: number[] | undefined) => Array.from({ length: n }, (_, i) => row?.[i] ?? 0);
	return { admitted: fill(counts?.admitted), refused: fill(counts?.refused) };
}
