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

/**
 * Who the object refused lately (an isolate's id, or null for a request without one), so pressure is others', and
 * which isolates hold blocks, so a busy one's fair share is the limit over all of them.
 */
export class RecentRefusals {
	private readonly last = new Map<string | null, number>();
	private readonly holders = new Map<string, number>();

	note(by: string | null, now: number): void {
		this.last.set(by, now);
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
		let latest = Number.NEGATIVE_INFINITY;
		for (const [by, at] of this.last) {
			if (now - at >= PRESSURE_MS) this.last.delete(by);
			else if (by === null || by !== isolate) latest = Math.max(latest, at);
		}
		return latest;
	}
}

/**
 * Resizes (or creates, or gives back) one block. The isolate has already stopped using anything above
 * min(current, want), so that much may be taken back at once; growth only comes from free permits, and
 * never while others wait. Synchronous (no await): in a Durable Object nothing interleaves.
 */
export function checkInBlock(table: LeaseTable, msg: CheckIn, ctx: BlockContext, now: number): { answer: CheckInAnswer; refused: boolean } {
	const total = table.inFlight(now);
	const lease = table.lease(msg.blockId);
	if (lease && lease.state !== "live") return { answer: answer(0, false, total, ctx, now, 0, false), refused: false };
	const current = lease ? (lease.count ?? 1) : 0;
	let keep = Math.min(current, Math.max(0, msg.want));
	// A request waits on this check-in (`need`): its pool ran dry or its admission window closed, so the isolate
	// admits no one under the block until the answer, and never more than `inUse` are at the origin under it. Its
	// other permits are spares; over a lowered limit, none of them may admit anyone, as no single lease could.
	if (msg.need) keep = Math.max(Math.min(keep, msg.inUse), Math.min(keep, ctx.limit - (total - current)));
	const free = ctx.limit - (total - current) - keep;
	const growth = ctx.waiters > 0 ? 0 : Math.max(0, Math.min(msg.want - keep, free));
	const count = keep + growth;
	if (count === 0) {
		if (lease) table.dropBlock(msg.blockId);
	} else {
		table.putBlock(msg.blockId, count, now, now + msg.windowMs + msg.maxHoldMs);
	}
	const inFlight = total - current + count;
	const refused = msg.need && count <= msg.inUse;
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
		answer: answer(count, count > 0, inFlight, ctx, now, retryAfterMs, refused),
		refused: refused && !msg.tentative,
	};
}

function answer(
	count: number,
	alive: boolean,
	inFlight: number,
	ctx: BlockContext,
	now: number,
	retryAfterMs: number,
	refused: boolean,
): CheckInAnswer {
	return {
		count,
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
