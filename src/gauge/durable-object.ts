// The Durable Object that holds one route's (or one key's) permits: the single authority for its count, worldwide.
import { DurableObject } from "cloudflare:workers";
import type { ExchangeSample } from "../adaptive/sample.ts";
import type { AdaptiveSettings } from "../adaptive/settings.ts";
import { log } from "../log.ts";
import type { AdaptiveStatus } from "./adaptive-gauge.ts";
import { AdaptiveGauge } from "./adaptive-gauge.ts";
import type { LeaseStore } from "./lease-store.ts";
import { BUSIEST_HOLDERS, SqlLeaseStore } from "./lease-store.ts";
import type { AcquireRequest, AcquireResult, GaugeCounters, HoldHistogram } from "./lease-table.ts";
import { LeaseTable } from "./lease-table.ts";
import { WaitQueue } from "./wait-queue.ts";

/** The reaper runs at most this often, however many leases expire. */
const REAP_INTERVAL_MS = 1_000;

export interface GaugeStatus {
	readonly inFlight: number;
	readonly queued: number;
	/** The limit set at runtime (PUT …/routes/:name/limit), which replaces the configured one; null when none. */
	readonly limitOverride: number | null;
	readonly counters: GaugeCounters;
	readonly holdEwmaMs: number;
	readonly holds: HoldHistogram;
	/** Keys (by object name) holding the most of this route's permits. */
	readonly busiestKeys: { holder: string; inFlight: number }[];
	/** On an adaptive route: the learned limit and what the algorithm sees; null on a fixed one. */
	readonly adaptive: AdaptiveStatus | null;
}

export class Gauge extends DurableObject {
	/** The time source. Tests replace it to move time without sleeping. */
	clock: () => number = Date.now;
	private readonly table: LeaseTable;
	/** Waiters live in memory: a restarted object fails their calls, and the Worker treats that as unknown. */
	private readonly queue = new WaitQueue();
	/** When the reaper alarm is due, mirrored from storage so acquire need not read it. */
	private alarmAt: number | null = null;
	/** The runtime limit, mirrored from storage. */
	private limitOverride: number | null;
	/** The adaptive limit (src/adaptive/), when the route has one. */
	private readonly adaptive: AdaptiveGauge;

	constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
		super(ctx, env);
		this.table = new LeaseTable(this.createStore(ctx));
		this.adaptive = new AdaptiveGauge(ctx.storage.sql, ctx.id.name ?? ctx.id.toString());
		ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
		this.limitOverride =
			ctx.storage.sql.exec<{ value: number }>("SELECT value FROM settings WHERE name = 'limit'").toArray()[0]?.value ?? null;
		void ctx.blockConcurrencyWhile(async () => {
			this.alarmAt = await ctx.storage.getAlarm();
		});
	}

	/** Where leases live: SQLite, so they survive restarts. (The benchmark's in-memory baseline overrides it.) */
	protected createStore(ctx: DurableObjectState): LeaseStore {
		return new SqlLeaseStore(ctx.storage.sql);
	}

	/**
	 * Grants a lease, refuses, or (when the request may queue and no permit is free) waits in FIFO order
	 * until a permit frees, the queue's deadline passes, or the caller cancels.
	 */
	acquire(req: AcquireRequest): AcquireResult | Promise<AcquireResult> {
		const now = this.clock();
		this.adaptive.configure(req.adaptive);
		if (!req.queue) return this.grant(req, now);
		// Permits freed by expiry go to those already waiting; nobody jumps the queue.
		this.drain(now);
		if (this.queue.length === 0 && this.table.hasRoom(this.limitFor(req), now)) return this.grant(req, now);
		if (this.queue.length >= req.queue.size) return this.table.refuse(this.effective(req), "queue-full", now);
		this.table.counters.queued++;
		return new Promise<AcquireResult>((resolve) => {
			const timer = setTimeout(() => {
				if (this.queue.remove(req.leaseId)) resolve(this.table.refuse(this.effective(req), "queue-timeout", this.clock()));
			}, req.queue?.maxWaitMs);
			this.queue.push({ req, resolve, timer });
		});
	}

	/** Gives a permit back (idempotent) and hands it to the first waiter, if any. On an adaptive route the
	 * release carries how the exchange with the origin went, and the limit learns from it. */
	release(leaseId: string, tombstoneMs: number, sample?: ExchangeSample): boolean {
		const now = this.clock();
		const inFlight = sample ? this.table.inFlight(now) : 0;
		const freed = this.table.release(leaseId, now, tombstoneMs);
		if (freed && sample) this.adaptive.record(sample, inFlight, now);
		if (!freed) this.scheduleReap(now + tombstoneMs);
		this.drain(now);
		return freed;
	}

	/** The caller of a queued acquire gave up: leave the queue, and give back a permit granted meanwhile. */
	cancel(leaseId: string, tombstoneMs: number): boolean {
		const waiter = this.queue.remove(leaseId);
		waiter?.resolve(this.table.refuse(this.effective(waiter.req), "cancelled", this.clock()));
		return this.release(leaseId, tombstoneMs);
	}

	/**
	 * Sets (a number) or clears (null) the runtime limit. It is stored, so it survives restarts. Lowering it
	 * below the live count admits nothing new until the count drops under it; raising it admits waiters.
	 */
	setLimit(limit: number | null): void {
		if (limit === null) this.ctx.storage.sql.exec("DELETE FROM settings WHERE name = 'limit'");
		else this.ctx.storage.sql.exec("INSERT OR REPLACE INTO settings (name, value) VALUES ('limit', ?)", limit);
		this.limitOverride = limit;
		this.drain(this.clock());
	}

	status(adaptive?: AdaptiveSettings): GaugeStatus {
		if (adaptive) this.adaptive.configure(adaptive);
		return {
			inFlight: this.table.inFlight(this.clock()),
			queued: this.queue.length,
			limitOverride: this.limitOverride,
			counters: { ...this.table.counters },
			holdEwmaMs: this.table.holdEwmaMs,
			holds: { ...this.table.holds, buckets: [...this.table.holds.buckets] },
			busiestKeys: this.table.busiestHolders(BUSIEST_HOLDERS),
			adaptive: this.adaptive.status(),
		};
	}

	/** Reaps expired leases and re-arms for the next expiry. Idempotent, so an at-least-once retry is harmless. */
	override async alarm(): Promise<void> {
		const now = this.clock();
		this.alarmAt = null;
		const leaked = this.table.reap(now);
		if (leaked > 0) log("lease_reaped", { gauge: this.ctx.id.name ?? this.ctx.id.toString(), leaked });
		this.drain(now);
		const next = this.table.nextExpiry();
		if (next !== null) this.scheduleReap(Math.max(next, now + REAP_INTERVAL_MS));
	}

	/** A runtime limit replaces the configured one the Worker sends, and pins an adaptive one. */
	private limitFor(req: AcquireRequest): number {
		return this.limitOverride ?? this.adaptive.limit ?? req.limit;
	}

	private effective(req: AcquireRequest): AcquireRequest {
		const limit = this.limitFor(req);
		return limit === req.limit ? req : { ...req, limit };
	}

	private grant(req: AcquireRequest, now: number): AcquireResult {
		const result = this.table.acquire(this.effective(req), now);
		if (result.ok) this.scheduleReap(result.expiresAt);
		return result;
	}

	/** Admits waiters, oldest first, while permits are free. */
	private drain(now: number): void {
		for (let head = this.queue.peek(); head && this.table.hasRoom(this.limitFor(head.req), now); head = this.queue.peek()) {
			this.queue.shift();
			head.resolve(this.grant(head.req, now));
		}
	}

	private scheduleReap(at: number): void {
		if (this.alarmAt !== null && this.alarmAt <= at) return;
		this.alarmAt = at;
		void this.ctx.storage.setAlarm(at);
	}
}
