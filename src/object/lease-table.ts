// The permit gauge's rules, free of I/O and of the clock: every call is handed `now`.
import type { AcquireRequest, AcquireResult, RefusalReason, Report } from "../protocol.ts";

export type { AcquireRequest, AcquireResult, RefusalReason } from "../protocol.ts";

import type { Lease, LeaseStore } from "./lease-store.ts";

export interface GaugeCounters {
	admitted: number;
	refused: number;
	released: number;
	/** Leases that expired without a release: each one is a permit some request failed to give back. */
	reaped: number;
	/** Refusals in dry-run mode: requests admitted without a permit that would have been refused. */
	dryRunRefused: number;
	/** Requests that had to wait in the queue (whatever the outcome). */
	queued: number;
	/** Waiters shed by CoDel (queue.order = "adaptive") in a standing queue; each is also a refusal. */
	shed: number;
}

/** Upper bounds (ms) of the hold-time histogram's buckets; the last bucket is +Inf. */
export const HOLD_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000] as const;

export interface HoldHistogram {
	/** Cumulative counts per bucket of HOLD_BUCKETS_MS, then +Inf (Prometheus style). */
	readonly buckets: number[];
	sumMs: number;
	count: number;
}

/** Weight of the newest hold time in the moving average behind Retry-After. */
const HOLD_EWMA_WEIGHT = 0.2;
/** Assumed hold time before any lease has been released. */
const INITIAL_HOLD_MS = 1_000;

export class LeaseTable {
	readonly counters: GaugeCounters = { admitted: 0, refused: 0, released: 0, reaped: 0, dryRunRefused: 0, queued: 0, shed: 0 };
	/** Exponentially weighted moving average of how long a permit is held. */
	holdEwmaMs = INITIAL_HOLD_MS;
	/** How long released permits were held. */
	readonly holds: HoldHistogram = { buckets: Array(HOLD_BUCKETS_MS.length + 1).fill(0), sumMs: 0, count: 0 };

	private readonly store: LeaseStore;

	constructor(store: LeaseStore) {
		this.store = store;
	}

	/**
	 * Grants a lease if fewer than `limit` are live. Purge, count and insert run with no
	 * await between them, so in a Durable Object no other call can interleave.
	 */
	acquire(req: AcquireRequest, now: number): AcquireResult {
		this.reap(now);
		const existing = this.store.get(req.leaseId);
		const inFlight = this.store.countLive();
		if (existing?.state === "live") {
			return { ok: true, leaseId: req.leaseId, expiresAt: existing.expiresAt, inFlight, limit: req.limit, quota: req.limit };
		}
		if (existing) return this.refuse(req, "released", now);
		if (inFlight >= req.limit) return this.refuse(req, "full", now);
		const expiresAt = now + req.maxHoldMs;
		this.store.insert({
			id: req.leaseId,
			acquiredAt: now,
			expiresAt,
			state: "live",
			holder: req.holder ?? null,
			priority: req.priority?.index ?? null,
		});
		this.counters.admitted++;
		return { ok: true, leaseId: req.leaseId, expiresAt, inFlight: inFlight + 1, limit: req.limit, quota: req.limit };
	}

	/**
	 * Gives a permit back. Idempotent. An unknown id leaves a tombstone until `now + tombstoneMs`,
	 * so an acquire with that id that arrives late (a retried RPC) cannot take a permit.
	 * With `graceMs` (a cut exchange whose origin may still be working), the permit stays counted until
	 * `now + graceMs`, never past its lease's expiry, and its end is a release, not a leak.
	 * Returns true when this call gave back a held permit.
	 */
	release(leaseId: string, now: number, tombstoneMs: number, graceMs = 0): boolean {
		const lease = this.store.get(leaseId);
		if (!lease) {
			this.store.insert({ id: leaseId, acquiredAt: now, expiresAt: now + tombstoneMs, state: "released", holder: null });
			return false;
		}
		if (lease.state !== "live") return false;
		const freeAt = Math.min(now + graceMs, lease.expiresAt);
		if (graceMs > 0) this.store.markEnding(leaseId, freeAt);
		else this.store.markReleased(leaseId);
		this.counters.released++;
		const held = Math.max(0, freeAt - lease.acquiredAt);
		this.holdEwmaMs += HOLD_EWMA_WEIGHT * (held - this.holdEwmaMs);
		this.recordHold(held);
		return true;
	}

	/**
	 * Extends a live lease to at least `now + maxHoldMs` (a long-lived exchange, such as a held WebSocket,
	 * renews while it is open). Idempotent, and never shortens a lease. A lease that was released or has
	 * expired is never revived: returns false, and the holder must stop using the permit.
	 */
	renew(leaseId: string, now: number, maxHoldMs: number): boolean {
		this.reap(now);
		const lease = this.store.get(leaseId);
		if (lease?.state !== "live") return false;
		this.store.setExpiry(leaseId, Math.max(lease.expiresAt, now + maxHoldMs));
		return true;
	}

	/** Counts (unless tentative: another shard answers for the request) and describes a refusal. */
	refuse(req: AcquireRequest, reason: RefusalReason, now: number): AcquireResult {
		if (req.tentative || reason === "cancelled") {
			// The request's last try counts it; a caller that gave up was not refused.
		} else if (req.dryRun) {
			this.counters.dryRunRefused++;
		} else {
			this.counters.refused++;
		}
		const inFlight = this.store.countLive();
		return { ok: false, reason, inFlight, limit: req.limit, quota: req.limit, retryAfterMs: this.estimateWait(now) };
	}

	/** True when this lease id has a row: a live lease (a repeated acquire) or a tombstone (released before). */
	knows(leaseId: string, now: number): boolean {
		this.reap(now);
		return this.store.get(leaseId) !== null;
	}

	busiestHolders(n: number): { holder: string; inFlight: number }[] {
		return this.store.busiestHolders(n);
	}

	/** Permits counted per holder at `now` (null: leases without one); expired leases are reaped first. */
	holderCounts(now: number): Map<string | null, number> {
		this.reap(now);
		return this.store.holderCounts();
	}

	/** Permits counted per priority class at `now` (null: leases without one); expired leases are reaped first. */
	classCounts(now: number): Map<number | null, number> {
		this.reap(now);
		return this.store.classCounts();
	}

	/** True when a permit is free at `now` for a route of this limit. */
	hasRoom(limit: number, now: number): boolean {
		return this.inFlight(now) < limit;
	}

	/** Drops every lease past its expiry; returns how many permits they leaked (in use at their last word). */
	reap(now: number): number {
		const leaked = this.store.deleteExpired(now);
		this.counters.reaped += leaked;
		return leaked;
	}

	/** Live leases at `now`; expired ones are reaped first, so they never count. */
	inFlight(now: number): number {
		this.reap(now);
		return this.store.countLive();
	}

	/** The earliest time at which some row (live lease or tombstone) expires, or null. */
	nextExpiry(): number | null {
		return this.store.nextExpiry();
	}

	/** A lease as stored (null: unknown, or expired and reaped). */
	lease(id: string): Lease | null {
		return this.store.get(id);
	}

	/**
	 * Creates or resizes a block (one lease holding `count` permits, `inUse` of them in use as the isolate last said).
	 * Admissions under it are reported, not counted here.
	 */
	putBlock(id: string, count: number, inUse: number, now: number, expiresAt: number): void {
		if (this.store.get(id)) this.store.setBlock(id, count, inUse, expiresAt);
		else this.store.insert({ id, acquiredAt: now, expiresAt, state: "live", holder: null, count, inUse });
	}

	/**
	 * A block given back: a tombstone until its lease's end (`until` for one this object never saw), so a late
	 * check-in cannot revive or create it.
	 */
	dropBlock(id: string, now: number, until: number): void {
		if (this.store.get(id)) this.store.markReleased(id);
		else this.store.insert({ id, acquiredAt: now, expiresAt: until, state: "released", holder: null });
	}

	/** Counts an isolate's report of what it admitted and released under its blocks. */
	absorb(report: Report): void {
		this.counters.admitted += report.admitted;
		this.counters.released += report.released;
		this.counters.reaped += report.reaped;
		for (const held of report.holdsMs) {
			this.holdEwmaMs += HOLD_EWMA_WEIGHT * (held - this.holdEwmaMs);
			this.recordHold(held);
		}
	}

	private recordHold(ms: number): void {
		const h = this.holds;
		HOLD_BUCKETS_MS.forEach((le, i) => {
			if (ms <= le) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
		});
		h.buckets[HOLD_BUCKETS_MS.length] = (h.buckets[HOLD_BUCKETS_MS.length] ?? 0) + 1;
		h.sumMs += ms;
		h.count++;
	}

	/**
	 * When a permit is likely to free: the oldest single lease about one average hold after it began; of n block
	 * permits in use (whose start the object does not see), the first about hold / (n + 1) from now. The sooner.
	 */
	/** When a permit is likely to free (ms from now), from the holds seen so far. */
	estimateWait(now: number): number {
		const { oldestSingleAcquiredAt: oldest, blockPermitsInUse: n } = this.store.holdState();
		const single = oldest === null ? Number.POSITIVE_INFINITY : oldest + this.holdEwmaMs - now;
		const blocks = n > 0 ? this.holdEwmaMs / (n + 1) : Number.POSITIVE_INFINITY;
		const wait = Math.min(single, blocks);
		return Number.isFinite(wait) ? Math.max(0, Math.round(wait)) : 0;
	}
}
