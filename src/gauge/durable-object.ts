// The Durable Object that holds one route's permits: the single authority for its count, worldwide.
import { DurableObject } from "cloudflare:workers";
import { log } from "../log.ts";
import { SqlLeaseStore } from "./lease-store.ts";
import type { AcquireRequest, AcquireResult, GaugeCounters } from "./lease-table.ts";
import { LeaseTable } from "./lease-table.ts";

/** The reaper runs at most this often, however many leases expire. */
const REAP_INTERVAL_MS = 1_000;

export interface GaugeStatus {
	readonly inFlight: number;
	readonly counters: GaugeCounters;
	readonly holdEwmaMs: number;
}

export class Gauge extends DurableObject {
	/** The time source. Tests replace it to move time without sleeping. */
	clock: () => number = Date.now;
	private readonly table: LeaseTable;
	/** When the reaper alarm is due, mirrored from storage so acquire need not read it. */
	private alarmAt: number | null = null;

	constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
		super(ctx, env);
		this.table = new LeaseTable(new SqlLeaseStore(ctx.storage.sql));
		void ctx.blockConcurrencyWhile(async () => {
			this.alarmAt = await ctx.storage.getAlarm();
		});
	}

	acquire(req: AcquireRequest): AcquireResult {
		const result = this.table.acquire(req, this.clock());
		if (result.ok) this.scheduleReap(result.expiresAt);
		return result;
	}

	release(leaseId: string, tombstoneMs: number): boolean {
		const now = this.clock();
		const freed = this.table.release(leaseId, now, tombstoneMs);
		if (!freed) this.scheduleReap(now + tombstoneMs);
		return freed;
	}

	status(): GaugeStatus {
		return { inFlight: this.table.inFlight(this.clock()), counters: { ...this.table.counters }, holdEwmaMs: this.table.holdEwmaMs };
	}

	/** Reaps expired leases and re-arms for the next expiry. Idempotent, so an at-least-once retry is harmless. */
	override async alarm(): Promise<void> {
		const now = this.clock();
		this.alarmAt = null;
		const leaked = this.table.reap(now);
		if (leaked > 0) log("lease_reaped", { gauge: this.ctx.id.name ?? this.ctx.id.toString(), leaked });
		const next = this.table.nextExpiry();
		if (next !== null) this.scheduleReap(Math.max(next, now + REAP_INTERVAL_MS));
	}

	private scheduleReap(at: number): void {
		if (this.alarmAt !== null && this.alarmAt <= at) return;
		this.alarmAt = at;
		void this.ctx.storage.setAlarm(at);
	}
}
