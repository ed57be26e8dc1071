// One isolate's pool of permits leased in a block from one gauge: admit locally, decide when to check in and
// for how many. Plain data and the clock passed in: no promise is ever kept here, because promises must not
// cross from one request's context to another's (PLATFORM.md). The I/O lives in src/isolate/blocks.ts.
//
// Every block is in one state, and leaves the pool by one way:
//
//   active ──(retire: check-in failed or given up as stale, idle, replaced)──▶ draining ──(nothing in use)──▶ returned
//      └───────────────(the object answered that the block is gone)──────────────────────────────────────────▲
//
// A block that becomes `returned` by retiring is put in the outbox, and the I/O layer hands it back to the object
// with the pool's undelivered report (`returns`). Only an answer that says the object no longer holds the block
// skips the hand-back (there is nothing to give back). So no retired block can stay parked at the object, and no
// report can wait for a block that will never check in again.

import type { CheckIn, CheckInAnswer, Report, ShardRoute } from "../protocol.ts";
import { emptyReport, isEmptyReport, MAX_HOLD_SAMPLES } from "../protocol.ts";
import type { BlockSettings } from "./block-settings.ts";

/** A check-in whose answer never came is given up after this long: its block is retired (outcome unknown). */
export const STALE_CHECK_IN_MS = 2_000;

export type BlockState = "active" | "draining" | "returned";

export interface Block {
	readonly id: string;
	/** active: the block check-ins are about; draining: retired, admitting only within its window until empty; returned: gone. */
	state: BlockState;
	/** Permits the object counts for it, as of its last answer: never fewer than this isolate may have in use under it. */
	count: number;
	/** Admit under it while fewer than this are in use (at most `count`): over a lowered limit, below what is in use. */
	cap: number;
	/** Requests admitted under it and not yet ended. */
	inUse: number;
	/** Admit under it only until then: every request admitted must end before the block's lease does. */
	admitUntil: number;
}

/** What the gauge's limits look like to a pool (a GaugeSpec's fields). */
export interface PoolSpec {
	readonly limit: number;
	readonly shard?: ShardRoute;
	readonly maxHoldMs: number;
	readonly dryRun: boolean;
	readonly queue: unknown;
}

/** A permit a request holds from a block, and the time it is back by (its grace's end once it is `ending`). */
export interface Held {
	readonly block: Block;
	readonly admittedAt: number;
	until: number;
	/** The request ended with a cutRelease grace: the permit is back at `until`, as a release (not a leak). */
	ending: boolean;
}

export interface Plan {
	readonly block: Block;
	readonly msg: CheckIn;
	readonly askedAt: number;
}

export type { BlockSettings };

export class BlockPool {
	/** The active block; null before the first check-in, or after it was retired. */
	current: Block | null = null;
	/** Retired blocks with requests still in flight: each is handed back when its last one ends. */
	readonly draining: Block[] = [];
	/** The block size this isolate aims for: starts at 1, doubles when local demand runs the pool dry, halves when idle. */
	k = 1;
	/** The check-in in flight: only its answer may change the current block (a stale one's may land any time later). */
	private pending: Plan | null = null;
	lastCheckInAt = Number.NEGATIVE_INFINITY;
	/** The last answer said others are refused or waiting (or the limit was lowered): keep no idle spares. */
	pressure = false;
	/** Under pressure, the most a busy pool's block keeps: the limit over the isolates sharing it (the last answer's). */
	share = Number.POSITIVE_INFINITY;
	/**
	 * When a request last found the pool dry: within returnAfterMs of that the isolate's own demand exceeds its
	 * block, so a permit that frees is reused by its next request in a moment, not parked.
	 */
	lastDryAt = Number.NEGATIVE_INFINITY;
	/** When a request last took or gave back a permit here. */
	lastUsedAt = Number.NEGATIVE_INFINITY;
	/** Requests that found the pool dry while a check-in was in flight (they asked for single permits): demand to grow by. */
	misses = 0;
	/** Decisions not yet reported to the object: they go out with the next call of any kind (check-in, hand-back, report). */
	report: Report = emptyReport();
	/** What the last answer said about the object: its limit in force, the quota, and how many it had free. */
	known = { limit: 0, quota: 0, objectFree: 0 };
	/** Permits held by requests, each with the time it must be back by (plain data, no timers): see `hold`. */
	private readonly held = new Set<Held>();
	/** Blocks retired and empty, to be handed back by the I/O layer (`returns`). */
	private readonly outbox: Block[] = [];
	private readonly settings: BlockSettings;
	private readonly newId: () => string;

	/** This pool's id in its check-ins and single acquires: the object tells others' refusals from its own. */
	readonly id: string;

	constructor(settings: BlockSettings, newId: () => string = () => crypto.randomUUID()) {
		this.settings = settings;
		this.newId = newId;
		this.id = newId();
	}

	/** A permit from a block this isolate holds, or null when none is free and open for admission. */
	take(now: number): Block | null {
		const block = [this.current, ...this.draining].find((b) => b !== null && b.inUse < b.cap && now <= b.admitUntil) ?? null;
		if (!block) return null;
		block.inUse++;
		this.report.admitted++;
		this.lastUsedAt = now;
		return block;
	}

	/**
	 * A request admitted under `block` ended: released, or (`reaped`) taken back at its deadline. A draining block
	 * that empties is handed back (see `returns`).
	 */
	put(block: Block, heldMs: number, now: number, reaped = false): void {
		block.inUse = Math.max(0, block.inUse - 1);
		// Released or reaped, never both: the object's admitted − released − reaped is what is still in flight.
		if (reaped) this.report.reaped++;
		else {
			this.report.released++;
			if (this.report.holdsMs.length < MAX_HOLD_SAMPLES) this.report.holdsMs.push(Math.max(0, heldMs));
		}
		this.lastUsedAt = now;
		if (block.state === "draining" && block.inUse === 0) this.toOutbox(block);
	}

	/**
	 * Records a permit taken for a request (after `take`): it must be back by `admittedAt + maxHoldMs`, as a single
	 * lease expires then. Should its release never come (a continuation the runtime dropped), `sweep` takes it
	 * back at that time and reports it reaped, so a block permit can leak no longer than a lease.
	 */
	hold(block: Block, admittedAt: number, maxHoldMs: number): Held {
		const held: Held = { block, admittedAt, until: admittedAt + maxHoldMs, ending: false };
		this.held.add(held);
		return held;
	}

	/**
	 * The request holding `held` ended. With `graceMs` (a cut exchange, the route's cutRelease) the permit stays in
	 * use until then (never past its own deadline) and `sweep` gives it back.
	 */
	end(held: Held, now: number, graceMs = 0): void {
		if (!this.held.has(held) || held.ending) return;
		if (graceMs > 0) {
			held.ending = true;
			held.until = Math.min(held.until, now + graceMs);
			return;
		}
		this.held.delete(held);
		this.put(held.block, now - held.admittedAt, now);
	}

	/** Gives back the permits whose grace or deadline is over, and gives up a check-in whose answer is overdue. */
	sweep(now: number): void {
		const stale = this.pending;
		if (stale && now - stale.askedAt >= STALE_CHECK_IN_MS) {
			// Its outcome is unknown: the block is retired, and handed back once empty (never forgotten at the object).
			this.pending = null;
			this.retire(stale.block);
		}
		for (const h of this.held) {
			if (h.until > now) continue;
			this.held.delete(h);
			// Past its deadline without a release: a leak, counted as the object counts an expired lease.
			this.put(h.block, h.until - h.admittedAt, now, !h.ending);
		}
	}

	/** When the check-in in flight was sent, or null. */
	get checkInSince(): number | null {
		return this.pending?.askedAt ?? null;
	}

	get inUse(): number {
		return (this.current?.inUse ?? 0) + this.draining.reduce((n, b) => n + b.inUse, 0);
	}

	/** Permits held but not in use (what a frozen isolate would park). */
	get spares(): number {
		const held = (this.current?.count ?? 0) + this.draining.reduce((n, b) => n + b.count, 0);
		return Math.max(0, held - this.inUse);
	}

	/** A background check-in is due: spares held past returnAfterMs, pressure, or the admission window half gone. */
	checkInDue(now: number): boolean {
		const b = this.current;
		if (!b || this.checkInSince !== null) return false;
		const spare = b.count > b.inUse;
		// Under pressure a pool with idle spares gives them back at once; a busy one only what it holds above its share
		// (or above what it may use: over a lowered limit the object still counts permits this isolate may not reuse).
		const giveBack = this.pressure && (!this.busy(now) || b.count > this.share || b.count > b.cap);
		if (spare && (giveBack || now - this.lastCheckInAt >= this.settings.returnAfterMs)) return true;
		return b.admitUntil - now < this.settings.windowMs / 2;
	}

	/** A request found the pool dry (its own demand exceeds its block). */
	noteDry(now: number): void {
		this.lastDryAt = now;
	}

	/** The isolate's own demand ran the pool dry within the last returnAfterMs. */
	busy(now: number): boolean {
		return now - this.lastDryAt < this.settings.returnAfterMs;
	}

	/** Idle for returnAfterMs with a block and nothing in flight: give it back. */
	idle(now: number): boolean {
		return this.current !== null && this.inUse === 0 && this.checkInSince === null && now - this.lastUsedAt >= this.settings.returnAfterMs;
	}

	/** The isolate idles: its block is retired, so it goes back (with the report) through the outbox, and the next one starts smaller. */
	handBack(now: number): void {
		if (!this.idle(now) || !this.current) return;
		this.k = Math.max(1, Math.floor(this.k / 2));
		this.retire(this.current);
	}

	/**
	 * Plans a check-in (null when one is already in flight, or the block is at max and in use). `need`: a request
	 * waits for a permit from it. From the moment it is planned the pool admits under the block no more than the
	 * check-in asks for (`want`), and tells the object the most it may have in use until the answer (`using`), so
	 * the object may take back everything above that at once.
	 */
	plan(now: number, spec: PoolSpec, opts: { need: boolean; tentative?: boolean }): Plan | null {
		this.sweep(now);
		if (this.pending) return null;
		const max = Math.max(1, this.settings.max);
		// A full-sized block in use: more comes as single permits, never as a bigger block.
		if (opts.need && (this.current?.inUse ?? 0) >= max) return null;
		const block: Block = this.current ?? {
			id: this.newId(),
			state: "active",
			count: 0,
			cap: 0,
			inUse: 0,
			admitUntil: Number.NEGATIVE_INFINITY,
		};
		this.current = block;
		if (opts.need && (block.count > 0 || this.misses > 0)) this.k = Math.min(max, Math.max(this.k * 2, block.inUse + this.misses + 1));
		this.misses = 0;
		const need = opts.need ? 1 : 0;
		let want: number;
		if (this.pressure && !this.busy(now)) want = block.inUse + need;
		// Others are refused, but this isolate's own demand runs its block dry: it keeps (or grows to) its fair share,
		// never less than what is in use, so busy isolates share the limit instead of passing permits back and forth.
		else if (this.pressure) want = Math.max(block.inUse + need, Math.min(max, this.share));
		// Half as much again as is in use: headroom, so that requests arriving while a renewal is on its way
		// still find a permit instead of waiting a round trip for it.
		else want = Math.min(max, Math.max(this.k, block.inUse + need + Math.ceil(block.inUse / 2)));
		block.cap = Math.min(block.cap, want);
		// Until the answer, requests are admitted only below the cap, and only while the window is open.
		const using = now <= block.admitUntil ? Math.max(block.inUse, block.cap) : block.inUse;
		const msg: CheckIn = {
			...this.message(block, spec, want, using, this.takeReport()),
			need: opts.need && !spec.queue,
			...(opts.tentative ? { tentative: true } : {}),
		};
		const planned = { block, msg, askedAt: now };
		this.pending = planned;
		return planned;
	}

	/** The object answered a planned check-in. */
	answered(plan: Plan, answer: CheckInAnswer): void {
		const block = plan.block;
		// An old object's answer has no `cap`: it may use the whole count, as before.
		const cap = Math.min(answer.cap ?? answer.count, answer.count, plan.msg.want);
		if (plan !== this.pending) {
			// A check-in given up as stale: another may be in flight now, and this answer may have been overtaken at the
			// object (a later check-in, or the block's hand-back). It may only lower what the pool uses, never raise it.
			block.cap = Math.min(block.cap, answer.alive ? cap : 0);
			return;
		}
		this.pending = null;
		this.lastCheckInAt = plan.askedAt;
		this.known = { limit: answer.limit, quota: answer.quota, objectFree: Math.max(0, answer.limit - answer.inFlight) };
		const p = answer.pressure;
		this.pressure = p.waiters > 0 || p.refusing || p.recall;
		this.share = p.share;
		if (!answer.alive || answer.count === 0) {
			// The object holds nothing for it: nothing to hand back.
			block.count = block.cap = 0;
			this.forget(block);
			return;
		}
		block.count = answer.count;
		block.cap = cap;
		block.admitUntil = plan.askedAt + plan.msg.windowMs;
	}

	/** The check-in failed (its outcome is unknown): its report goes out again with the next call, and its block is retired. */
	failed(plan: Plan): void {
		this.requeue(plan.msg.report);
		// A check-in given up as stale had its block retired then; the one in flight now is another.
		if (plan !== this.pending) return;
		this.pending = null;
		this.retire(plan.block);
	}

	/**
	 * Blocks to hand back now, each as a check-in asking for nothing. The first carries the pool's undelivered report.
	 * If a hand-back fails, `failed` puts its report back; the object takes the block back at its lease's end.
	 */
	returns(spec: PoolSpec): Plan[] {
		return this.outbox.splice(0).map((block) => ({ block, msg: this.message(block, spec, 0, block.inUse, this.takeReport()), askedAt: 0 }));
	}

	/** A report to send on its own: decisions are waiting, and no block will check in or be handed back to carry them. */
	reportDue(): boolean {
		return !isEmptyReport(this.report) && this.current === null && this.pending === null && this.outbox.length === 0;
	}

	/** Takes the undelivered report (null when there is none); if its call fails, `requeue` puts it back. */
	takeReport(): Report | null {
		if (isEmptyReport(this.report)) return null;
		const report = this.report;
		this.report = emptyReport();
		return report;
	}

	/** Puts an undelivered report back in front of what was decided since. */
	requeue(r: Report | null): void {
		if (!r) return;
		const now = this.report;
		this.report = {
			admitted: r.admitted + now.admitted,
			released: r.released + now.released,
			reaped: r.reaped + now.reaped,
			holdsMs: [...r.holdsMs, ...now.holdsMs].slice(0, MAX_HOLD_SAMPLES),
			localRefused: r.localRefused + now.localRefused,
			gaugeErrors: r.gaugeErrors + now.gaugeErrors,
			failOpen: r.failOpen + now.failOpen,
		};
	}

	private message(block: Block, spec: PoolSpec, want: number, using: number, report: Report | null): CheckIn {
		return {
			blockId: block.id,
			isolate: this.id,
			want,
			using,
			need: false,
			inUse: block.inUse,
			limit: spec.limit,
			maxHoldMs: spec.maxHoldMs,
			windowMs: this.settings.windowMs,
			dryRun: spec.dryRun,
			...(spec.shard ? { shard: spec.shard } : {}),
			report,
		};
	}

	/** active → draining: no more check-ins for it; handed back once nothing is in use under it. */
	private retire(block: Block): void {
		if (block.state !== "active") return;
		if (this.current === block) this.current = null;
		block.state = "draining";
		if (block.inUse === 0) this.toOutbox(block);
		else this.draining.push(block);
	}

	/** draining → returned, by the outbox: the one way a retired block leaves the pool. */
	private toOutbox(block: Block): void {
		this.forget(block);
		this.outbox.push(block);
	}

	private forget(block: Block): void {
		block.state = "returned";
		if (this.current === block) this.current = null;
		const i = this.draining.indexOf(block);
		if (i >= 0) this.draining.splice(i, 1);
	}
}
