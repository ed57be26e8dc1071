// The Durable Object that holds one route's (or one key's) permits: the single authority for its count, worldwide.
import { DurableObject } from "cloudflare:workers";
import { log } from "../log.ts";
import { SqlLeaseStore } from "./lease-store.ts";
import type { AcquireRequest, AcquireResult, GaugeCounters } from "./lease-table.ts";
import { LeaseTable } from "./lease-table.ts";
import { WaitQueue } from "./wait-queue.ts";

/** The reaper runs at most this often, however many leases expire. */
const REAP_INTERVAL_MS = 1_000;

export interface GaugeStatus {
	readonly inFlight: number;
	readonly queued: number;
	readonly counters: GaugeCounters;
	readonly holdEwmaMs: number;
}

export class Gauge extends DurableObject {
	/** The time source. Tests replace it to move time without sleeping. */
	clock: () => number = Date.now;
	private readonly table: LeaseTable;
	/** Waiters live in memory: a restarted object fails their calls, and the Worker treats that as unknown. */
	private readonly queue = new WaitQueue();
	/** When the reaper alarm is due, mirrored from storage so acquire need not read it. */
	private alarmAt: number | null = null;

	constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
		super(ctx, env);
		this.table = new LeaseTable(new SqlLeaseStore(ctx.storage.sql));
		void ctx.blockConcurrencyWhile(async () => {
			this.alarmAt = await ctx.storage.getAlarm();
		});
	}

	/**
	 * Grants a lease, refuses, or (when the request may queue and no permit is free) waits in FIFO order
	 * until a permit frees, the queue's deadline passes, or the caller cancels.
	 */
	acquire(req: AcquireRequest): AcquireResult | Promise<AcquireResult> {
		const now = this.clock();
		if (!req.queue) return this.grant(req, now);
		// Permits freed by expiry go to those already waiting; nobody jumps the queue.
		this.drain(now);
		if (this.queue.length === 0 && this.table.hasRoom(req.limit, now)) return this.grant(req, now);
		if (this.queue.length >= req.queue.size) return this.table.refuse(req, "queue-full", now);
		this.table.counters.queued++;
		return new Promise<AcquireResult>((resolve) => {
			const timer = setTimeout(() => {
				if (this.queue.remove(req.leaseId)) resolve(this.table.refuse(req, "queue-timeout", this.clock()));
			}, req.queue?.maxWaitMs);
			this.queue.push({ req, enqueuedAt: now, resolve, timer });
		});
	}

	/** Gives a permit back (idempotent) and hands it to the first waiter, if any. */
	release(leaseId: string, tombstoneMs: number): boolean {
		const now = this.clock();
		const freed = this.table.release(leaseId, now, tombstoneMs);
		if (!freed) this.scheduleReap(now + tombstoneMs);
		this.drain(now);
		return freed;
	}

	/** The caller of a queued acquire gave up: leave the queue, and give back a permit granted meanwhile. */
	cancel(leaseId: string, tombstoneMs: number): boolean {
		const waiter = this.queue.remove(leaseId);
		waiter?.resolve(this.table.refuse(waiter.req, "cancelled", this.clock()));
		return this.release(leaseId, tombstoneMs);
	}

	status(): GaugeStatus {
		return {
			inFlight: this.table.inFlight(this.clock()),
			queued: this.queue.length,
			counters: { ...this.table.counters },
			holdEwmaMs: this.table.holdEwmaMs,
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

	private grant(req: AcquireRequest, now: number): AcquireResult {
		const result = this.table.acquire(req, now);
		if (result.ok) this.scheduleReap(result.expiresAt);
		return result;
	}

	/** Admits waiters, oldest first, while permits are free. */
	private drain(now: number): void {
		for (let head = this.queue.peek(); head && this.table.hasRoom(head.req.limit, now); head = this.queue.peek()) {
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
