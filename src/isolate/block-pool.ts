// One isolate's pool of permits leased in a block from one gauge: admit locally, decide when to check in and
// for how many. Plain data and the clock passed in: no promise is ever kept here, because promises must not
// cross from one request's context to another's (PLATFORM.md). The I/O lives in src/isolate/blocks.ts.

import type { CheckIn, CheckInAnswer, Report, ShardRoute } from "../protocol.ts";
import { emptyReport, MAX_HOLD_SAMPLES } from "../protocol.ts";
import type { BlockSettings } from "./block-settings.ts";

/** A check-in whose answer never came is given up after this long: its block is retired (outcome unknown). */
export const STALE_CHECK_IN_MS = 2_000;

export interface Block {
	readonly id: string;
	/** Permits the object holds for it, as far as this isolate may use them. */
	count: number;
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
	/** The block check-ins are about; null before the first one or after it was retired or given back. */
	current: Block | null = null;
	/** Retired blocks that still have requests in flight: given back when the last one ends. */
	readonly retired: Block[] = [];
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
	/** Decisions not yet reported to the object. */
	report: Report = emptyReport();
	/** What the last answer said about the object: its limit in force, the quota, and how many it had free. */
	known = { limit: 0, quota: 0, objectFree: 0 };
	/** Permits held by requests, each with the time it must be back by (plain data, no timers): see `hold`. */
	private readonly held = new Set<Held>();
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
		const block = [this.current, ...this.retired].find((b) => b !== null && b.inUse < b.count && now <= b.admitUntil) ?? null;
		if (!block) return null;
		block.inUse++;
		this.report.admitted++;
		this.lastUsedAt = now;
		return block;
	}

	/** A request admitted under `block` ended. Returns a retired block that is now empty (to give back), if any. */
	put(block: Block, heldMs: number, now: number): Block | null {
		block.inUse = Math.max(0, block.inUse - 1);
		this.report.released++;
		if (this.report.holdsMs.length < MAX_HOLD_SAMPLES) this.report.holdsMs.push(Math.max(0, heldMs));
		this.lastUsedAt = now;
		if (block !== this.current && block.inUse === 0) {
			const i = this.retired.indexOf(block);
			if (i >= 0) this.retired.splice(i, 1);
			return block.count > 0 ? block : null;
		}
		return null;
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
	 * use until then (never past its own deadline) and `sweep` gives it back. Returns a retired block that is now
	 * empty (to give back), if any.
	 */
	end(held: Held, now: number, graceMs = 0): Block | null {
		if (!this.held.has(held) || held.ending) return null;
		if (graceMs > 0) {
			held.ending = true;
			held.until = Math.min(held.until, now + graceMs);
			return null;
		}
		this.held.delete(held);
		return this.put(held.block, now - held.admittedAt, now);
	}

	/** Gives back the permits whose grace or deadline is over; returns the retired blocks that emptied (to give back). */
	sweep(now: number): Block[] {
		const emptied: Block[] = [];
		for (const h of this.held) {
			if (h.until > now) continue;
			this.held.delete(h);
			// Past its deadline without a release: a leak, counted as the object counts an expired lease.
			if (!h.ending) this.report.reaped++;
			const empty = this.put(h.block, h.until - h.admittedAt, now);
			if (empty) emptied.push(empty);
		}
		return emptied;
	}

	/** When the check-in in flight was sent, or null. */
	get checkInSince(): number | null {
		return this.pending?.askedAt ?? null;
	}

	get inUse(): number {
		return (this.current?.inUse ?? 0) + this.retired.reduce((n, b) => n + b.inUse, 0);
	}

	/** Permits held but not in use (what a frozen isolate would park). */
	get spares(): number {
		const held = (this.current?.count ?? 0) + this.retired.reduce((n, b) => n + b.count, 0);
		return Math.max(0, held - this.inUse);
	}

	/** A background check-in is due: spares held past returnAfterMs, pressure, or the admission window half gone. */
	checkInDue(now: number): boolean {
		const b = this.current;
		if (!b || this.checkInSince !== null) return false;
		const spare = b.count > b.inUse;
		// Under pressure a pool with idle spares gives them back at once; a busy one only what it holds above its share.
		const giveBack = this.pressure && (!this.busy(now) || b.count > this.share);
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

	/**
	 * Plans a check-in (null when one is already in flight, or the block is at max and in use). `need`: a request waits for a permit from it.
	 * `giveBack`: the isolate idles; the whole block goes back. From the moment it is planned the pool uses no
	 * more of the block than the check-in asks for, so the object may take the rest back at once.
	 */
	plan(now: number, spec: PoolSpec, opts: { need: boolean; giveBack?: boolean; tentative?: boolean }): Plan | null {
		if (this.checkInSince !== null) {
			if (now - this.checkInSince < STALE_CHECK_IN_MS) return null;
			this.retire();
		}
		const max = Math.max(1, this.settings.max);
		// A full-sized block in use: more comes as single permits, never as a bigger block.
		if (opts.need && (this.current?.inUse ?? 0) >= max) return null;
		const block = this.current ?? { id: this.newId(), count: 0, inUse: 0, admitUntil: Number.NEGATIVE_INFINITY };
		this.current = block;
		if (opts.need && (block.count > 0 || this.misses > 0)) this.k = Math.min(max, Math.max(this.k * 2, block.inUse + this.misses + 1));
		this.misses = 0;
		let want: number;
		if (opts.giveBack) {
			want = block.inUse;
			this.k = Math.max(1, Math.floor(this.k / 2));
		} else if (this.pressure && !this.busy(now)) want = block.inUse + (opts.need ? 1 : 0);
		// Others are refused, but this isolate's own demand runs its block dry: it keeps (or grows to) its fair share,
		// never less than what is in use, so busy isolates share the limit instead of passing permits back and forth.
		else if (this.pressure) want = Math.max(block.inUse + (opts.need ? 1 : 0), Math.min(max, this.share));
		// Half as much again as is in use: headroom, so that requests arriving while a renewal is on its way
		// still find a permit instead of waiting a round trip for it.
		else want = Math.min(max, Math.max(this.k, block.inUse + (opts.need ? 1 : 0) + Math.ceil(block.inUse / 2)));
		block.count = Math.min(block.count, want);
		const report = this.report;
		this.report = emptyReport();
		const msg: CheckIn = {
			blockId: block.id,
			isolate: this.id,
			want,
			need: opts.need && !spec.queue,
			inUse: block.inUse,
			limit: spec.limit,
			maxHoldMs: spec.maxHoldMs,
			windowMs: this.settings.windowMs,
			dryRun: spec.dryRun,
			...(opts.tentative ? { tentative: true } : {}),
			...(spec.shard ? { shard: spec.shard } : {}),
			report,
		};
		const planned = { block, msg, askedAt: now };
		this.pending = planned;
		return planned;
	}

	/** The object answered a planned check-in. */
	answered(plan: Plan, answer: CheckInAnswer): void {
		if (plan !== this.pending) {
			// A check-in given up as stale: another may be in flight now, and this answer may have been overtaken at the
			// object (a later check-in, or the block's give-back). It may only lower what the pool uses, never raise it.
			plan.block.count = Math.min(plan.block.count, answer.alive ? answer.count : 0);
			return;
		}
		this.pending = null;
		this.lastCheckInAt = plan.askedAt;
		this.known = { limit: answer.limit, quota: answer.quota, objectFree: Math.max(0, answer.limit - answer.inFlight) };
		const p = answer.pressure;
		this.pressure = p.waiters > 0 || p.refusing || p.recall;
		this.share = p.share;
		const block = plan.block;
		if (!answer.alive || answer.count === 0) {
			block.count = 0;
			if (this.current === block) this.current = null;
			return;
		}
		// Never trust more than this isolate asked for: what it stopped using at send time stays unused.
		block.count = Math.min(answer.count, plan.msg.want);
		block.admitUntil = plan.askedAt + plan.msg.windowMs;
		if (this.current !== block && !this.retired.includes(block)) this.retired.push(block);
	}

	/**
	 * The check-in failed (its outcome is unknown): retire its block, which keeps admitting only within its window.
	 * Its report goes out again with the next call (a count may then be reported twice; none is lost). Returns the
	 * block when nothing is in use under it: the isolate drops it, so it should be given back at once (the object
	 * may have created or kept it) rather than parked until its lease ends.
	 */
	failed(plan: Plan): Block | null {
		if (plan.msg.report) this.requeue(plan.msg.report);
		// A stale check-in's block was retired when it was given up; the check-in in flight now is another one.
		if (plan !== this.pending) return null;
		this.pending = null;
		if (this.current !== plan.block) return null;
		this.retire();
		return plan.block.inUse === 0 ? plan.block : null;
	}

	/** Puts an undelivered report back in front of what was decided since. */
	private requeue(r: Report): void {
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

	private retire(): void {
		const b = this.current;
		this.current = null;
		this.pending = null;
		if (b && b.inUse > 0) this.retired.push(b);
	}
}
