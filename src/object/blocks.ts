// The object's side of blocks: size an isolate's block so that blocks and single leases together never pass the limit.
import type { CheckIn, CheckInAnswer } from "../protocol.ts";
import { PRESSURE_MS } from "../protocol.ts";
import type { LeaseTable } from "./lease-table.ts";

export interface BlockContext {
	/** The effective limit (a runtime limit replaces the configured one). */
	readonly limit: number;
	/** The policy's quota in force, for RateLimit headers (default: the limit). */
	readonly quota?: number;
	/** Requests waiting in the object's queue: returned permits go to them first, so no block grows. */
	readonly waiters: number;
	/**
	 * When the object last refused someone other than the isolate checking in (-Infinity: never). An isolate's own
	 * refusals are no reason to give back spares: it is refused only when it has none.
	 */
	readonly lastRefusedAt: number;
	/** A busy isolate's fair share under pressure (default: the limit). */
	readonly share?: number;
}

/** An isolate that checked in with a block this long ago is still counted among those sharing the limit. */
const HOLDER_MS = 2 * PRESSURE_MS;
/** RecentRefusals prunes expired entries once it holds this many. */
const PRUNE_AT = 64;
/** The most isolates RecentRefusals remembers (the newest): a bound on its memory whatever the refusal rate. */
const MAX_REFUSERS = 1_024;

/**
 * Who the object refused lately (an isolate's id, or null for a request without one), so pressure is others', and
 * which isolates hold blocks, so a busy one's fair share is the limit over all of them.
 */
export class RecentRefusals {
	private readonly last = new Map<string | null, number>();
	private readonly holders = new Map<string, number>();

	note(by: string | null, now: number): void {
		// Pruned here too, not only on check-ins: single acquires from many isolates (a WebSocket route) must not
		// grow the map while no block checks in. At most one entry per isolate refused within PRESSURE_MS remains.
		if (this.last.size >= PRUNE_AT) this.prune(now);
		this.last.delete(by);
		this.last.set(by, now);
		// A burst of refusals from more isolates than that within one PRESSURE_MS: the oldest go first.
		for (const key of this.last.keys()) {
			if (this.last.size <= MAX_REFUSERS) break;
			this.last.delete(key);
		}
	}

	/** An isolate checked in; `holds`: its block is not empty. */
	checkedIn(isolate: string | undefined, holds: boolean, now: number): void {
		if (isolate === undefined) return;
		if (holds) this.holders.set(isolate, now);
		else this.holders.delete(isolate);
	}

	/** The limit over the isolates holding blocks or refused lately (a refusal without an id counts as one more), at least 1. */
	share(limit: number, now: number): number {
		const sharing = new Set<string | null>();
		for (const [id, at] of this.holders) {
			if (now - at >= HOLDER_MS) this.holders.delete(id);
			else sharing.add(id);
		}
		for (const [by, at] of this.last) if (now - at < PRESSURE_MS) sharing.add(by);
		return Math.max(1, Math.floor(limit / Math.max(1, sharing.size)));
	}

	/** The latest refusal within PRESSURE_MS of anyone but `isolate` (a refusal without an id is always someone else's). */
	lastOtherThan(isolate: string | null, now: number): number {
		this.prune(now);
		let latest = Number.NEGATIVE_INFINITY;
		for (const [by, at] of this.last) if (by === null || by !== isolate) latest = Math.max(latest, at);
		return latest;
	}

	/** Isolates it remembers as refused (for tests of its bound). */
	get size(): number {
		return this.last.size;
	}

	private prune(now: number): void {
		for (const [by, at] of this.last) if (now - at >= PRESSURE_MS) this.last.delete(by);
	}
}

/**
 * Resizes (or creates, or gives back) one block. The object keeps counting whatever the isolate may have in use
 * until it has this answer (`using`); what the isolate may use from now on (`cap`) is what it wants, within the room
 * the limit leaves besides every other lease. Growth only comes from free permits, and never while others wait.
 * Synchronous (no await): in a Durable Object nothing interleaves.
 */
export function checkInBlock(table: LeaseTable, msg: CheckIn, ctx: BlockContext, now: number): { answer: CheckInAnswer; refused: boolean } {
	const total = table.inFlight(now);
	const lease = table.lease(msg.blockId);
	const until = now + msg.windowMs + msg.maxHoldMs;
	if (lease && lease.state !== "live") return { answer: answer(0, 0, false, total, ctx, now, 0, false), refused: false };
	const current = lease ? (lease.count ?? 1) : 0;
	const room = Math.max(0, ctx.limit - (total - current));
	// Never below what the isolate may be using: it learns of a smaller block only when this answer lands.
	const using = Math.min(current, Math.max(0, msg.using ?? Math.min(current, msg.want)));
	const wanted = Math.max(0, msg.want);
	const cap = Math.min(ctx.waiters > 0 ? Math.min(wanted, current) : wanted, room);
	const count = Math.max(cap, using);
	if (count === 0) {
		// A hand-back of a block this object never saw (its creating check-in is still on its way) leaves a
		// tombstone, so that check-in cannot create it after the isolate has forgotten it.
		if (lease || msg.want === 0) table.dropBlock(msg.blockId, now, until);
	} else {
		table.putBlock(msg.blockId, count, Math.min(msg.inUse, count), now, until);
	}
	const inFlight = total - current + count;
	// A request waits on this check-in (`need`): its pool ran dry or its admission window closed, so it is admitted
	// only if the isolate may use more than it has in use.
	const refused = msg.need && cap <= msg.inUse;
	let retryAfterMs = 0;
	if (refused) {
		const refusal = table.refuse(
			{ leaseId: msg.blockId, limit: ctx.limit, maxHoldMs: msg.maxHoldMs, dryRun: msg.dryRun, tentative: msg.tentative ?? false },
			"full",
			now,
		);
		retryAfterMs = refusal.ok ? 0 : refusal.retryAfterMs;
	}
	return {
		answer: answer(count, cap, count > 0, inFlight, ctx, now, retryAfterMs, refused),
		refused: refused && !msg.tentative,
	};
}

function answer(
	count: number,
	cap: number,
	alive: boolean,
	inFlight: number,
	ctx: BlockContext,
	now: number,
	retryAfterMs: number,
	refused: boolean,
): CheckInAnswer {
	return {
		count,
		cap,
		alive,
		refused,
		inFlight,
		limit: ctx.limit,
		quota: ctx.quota ?? ctx.limit,
		retryAfterMs,
		pressure: {
			waiters: ctx.waiters,
			refusing: now - ctx.lastRefusedAt < PRESSURE_MS,
			recall: inFlight > ctx.limit,
			share: ctx.share ?? ctx.limit,
		},
	};
}

/** What the object knows of the blocks it leased, as each stood at its last check-in: for /status and /metrics. */
export interface BlockTotals {
	/** Permits leased to isolates in blocks. */
	readonly held: number;
	/** Of those, not in use at the blocks' last check-ins. */
	readonly spare: number;
	/** Refusals made while blocks held spare permits: permits idle in isolates while others were refused. */
	readonly refusedWithSpares: number;
}

export class BlockLedger {
	private readonly blocks = new Map<string, { count: number; inUse: number; until: number }>();
	private refusedWithSpares = 0;

	/** A block's size and use after a check-in, and when its lease ends (0 permits: it is gone). */
	checkedIn(blockId: string, count: number, inUse: number, until: number): void {
		if (count > 0) this.blocks.set(blockId, { count, inUse: Math.min(inUse, count), until });
		else this.blocks.delete(blockId);
	}

	/** The object refused someone: counted when blocks held spares as last reported. */
	refused(now: number): void {
		if (this.totals(now).spare > 0) this.refusedWithSpares++;
	}

	totals(now: number): BlockTotals {
		let held = 0;
		let spare = 0;
		for (const [id, b] of this.blocks) {
			if (b.until <= now) this.blocks.delete(id);
			else {
				held += b.count;
				spare += b.count - b.inUse;
			}
		}
		return { held, spare, refusedWithSpares: this.refusedWithSpares };
	}
}
