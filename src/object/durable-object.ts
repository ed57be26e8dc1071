// The Durable Object that holds one route's (or one key's) permits: the single authority for its count, worldwide.
import { DurableObject } from "cloudflare:workers";
import type { ExchangeSample } from "../adaptive/sample.ts";
import type { AdaptiveSettings } from "../adaptive/settings.ts";
import type { GaugeRpc } from "../gauge-rpc.ts";
import { log } from "../log.ts";
import type { CheckIn, CheckInAnswer, Report } from "../protocol.ts";
import { MAX_RELEASING } from "../protocol.ts";
import type { AdaptiveStatus } from "./adaptive-gauge.ts";
import { AdaptiveGauge } from "./adaptive-gauge.ts";
import type { BlockTotals } from "./blocks.ts";
import { BlockLedger, checkInBlock, RecentRefusals } from "./blocks.ts";
import type { Layout, LayoutCopy, LayoutState } from "./layout.ts";
import type { LeaseStore } from "./lease-store.ts";
import { BUSIEST_HOLDERS, SqlLeaseStore } from "./lease-store.ts";
import type { AcquireRequest, AcquireResult, GaugeCounters, HoldHistogram, RefusalReason } from "./lease-table.ts";
import { LeaseTable } from "./lease-table.ts";
import type { SeenLayout, ShardRoute } from "./shard-shares.ts";
import { ShardShares } from "./shard-shares.ts";
import type { SharingStatus } from "./sharing.ts";
import { Sharing } from "./sharing.ts";
import { WaitQueue } from "./wait-queue.ts";

/** The reaper runs at most this often, however many leases expire. */
const REAP_INTERVAL_MS = 1_000;

export type { ClassStats } from "./sharing.ts";

export interface GaugeStatus extends SharingStatus {
	readonly inFlight: number;
	readonly queued: number;
	/** The route total set at runtime (PUT …/routes/:name/limit), kept by shard 0; null when none. */
	readonly limitOverride: number | null;
	/** Shard 0 of a route: the layout record (layouts in use, shares in force); null elsewhere. */
	readonly layout: { readonly shares: number[]; readonly layouts: { total: number; shards: number }[] } | null;
	readonly counters: GaugeCounters;
	/** When this object started (epoch ms): its counters count from then, as a process's would. */
	readonly countersSince: number;
	readonly holdEwmaMs: number;
	readonly holds: HoldHistogram;
	/** Keys (by object name) holding the most of this route's permits. */
	readonly busiestKeys: { holder: string; inFlight: number }[];
	/** On an adaptive route: the learned limit and what the algorithm sees; null on a fixed one. */
	readonly adaptive: AdaptiveStatus | null;
	/**
	 * Decisions isolates made without this object (local refusals, gauge errors, fail-open), and the refusals of
	 * the route's perKey shares (keyRefused), as they reported them.
	 */
	readonly reported: { localRefused: number; gaugeErrors: number; failOpen: number; keyRefused: number };
	/** Permits leased to isolates in blocks, and how many were spare, as of each block's last check-in. */
	readonly blocks: BlockTotals;
}

export class Gauge extends DurableObject implements GaugeRpc {
	/** The time source. Tests replace it to move time without sleeping. */
	clock: () => number = Date.now;
	/** Where a refused client lands in its Retry-After slot (sharing.ts). Tests replace it. */
	random: () => number = Math.random;
	/** When this instance started: counters live in memory, so they begin again with every restart. */
	private readonly startedAt = Date.now();
	private readonly table: LeaseTable;
	/** Waiters live in memory: a restarted object fails their calls, and the Worker treats that as unknown. */
	private readonly queue = new WaitQueue();
	/** When the reaper alarm is due, mirrored from storage so acquire need not read it. */
	private alarmAt: number | null = null;
	/** On a route's shard: the shares it may grant (the layout record on shard 0, a copy elsewhere). */
	private readonly shares: ShardShares;
	/** The adaptive limit (src/adaptive/), when the route has one. */
	private readonly adaptive: AdaptiveGauge;
	/** Who this object refused lately and which isolates hold blocks: each check-in's pressure and fair share. */
	private readonly refusals = new RecentRefusals();
	/** The blocks leased from this object, as of their last check-ins. */
	private readonly ledger = new BlockLedger();
	/** What isolates reported deciding on their own (in memory, like the other counters). */
	private readonly reported: GaugeStatus["reported"] = { localRefused: 0, gaugeErrors: 0, failOpen: 0, keyRefused: 0 };
	/** Fair shares, priority classes, the queue's order and Retry-After spreading (sharing.ts). */
	private readonly sharing: Sharing;

	constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
		super(ctx, env);
		this.table = new LeaseTable(this.createStore(ctx));
		this.sharing = new Sharing(
			this.table,
			this.queue,
			(req, now) => this.limitFor(req, now),
			() => this.random(),
		);
		// Shard 0 of a sharded gauge is reached through the GAUGE binding: the standalone gate's, and the one the library
		// tells its users to make (docs/library.md). Not typed through Cloudflare.Env, which is each Worker's own.
		const own = (env as unknown as { GAUGE: DurableObjectNamespace<Gauge> }).GAUGE;
		this.shares = new ShardShares(ctx.storage.sql, (record, seen) => own.getByName(record).layoutFor(seen));
		this.adaptive = new AdaptiveGauge(ctx.storage.sql, ctx.id.name ?? ctx.id.toString());
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
	 * until a permit frees, the queue's deadline passes, or the caller cancels. A route shard first makes
	 * sure it knows its share (see layout.ts).
	 */
	acquire(req: AcquireRequest): AcquireResult | Promise<AcquireResult> {
		this.adaptive.configure(req.adaptive);
		const ready = req.shard ? this.shares.prepare(req.shard, this.clock()) : null;
		return ready ? ready.then(() => this.admit(req)) : this.admit(req);
	}

	/**
	 * Gives a permit back (idempotent), withdraws a waiter with this id, and hands freed permits to waiters.
	 * With `graceMs`, the permit stays counted that much longer (a cut exchange, see cutRelease); the reaper
	 * then ends it and admits waiters. Returns true when this call gave back a held permit. On an adaptive route
	 * the release carries how the exchange with the origin went (`sample`), and the limit learns from it.
	 */
	release(leaseId: string, tombstoneMs: number, graceMs = 0, sample?: ExchangeSample): boolean {
		const now = this.clock();
		const inFlight = sample ? this.table.inFlight(now) : 0;
		// A waiter with this id belongs to a caller that gave up or whose acquire call failed: it must not be granted.
		const waiter = this.queue.remove(leaseId);
		this.sharing.queueChanged(now);
		waiter?.resolve(this.refuse(waiter.req, "cancelled", now));
		const freed = this.table.release(leaseId, now, tombstoneMs, graceMs);
		if (freed && sample) this.adaptive.record(sample, inFlight, now);
		if (!freed) this.scheduleReap(now + tombstoneMs);
		else if (graceMs > 0) this.scheduleReap(now + graceMs);
		this.drain(now);
		return freed;
	}

	/**
	 * Extends a live lease by `maxHoldMs` from now; false when it was released or has expired (never revived).
	 * The reaper alarm needs no change: it is due no later than the lease's old expiry and re-arms from there.
	 */
	async renew(leaseId: string, maxHoldMs: number, shard: ShardRoute | null = null): Promise<boolean> {
		// A renewed lease (a held WebSocket) keeps its layout in use: the record must not retire the layout, and
		// raise other shards' shares, while the lease still counts here (see layout.ts). A shard that cannot reach
		// shard 0 fails the renewal, and the socket retries or closes.
		if (shard) await this.shares.confirm(shard, this.clock);
		return this.table.renew(leaseId, this.clock(), maxHoldMs);
	}

	/** The caller of a queued acquire gave up: leave the queue, and give back a permit granted meanwhile. */
	cancel(leaseId: string, tombstoneMs: number): boolean {
		return this.release(leaseId, tombstoneMs);
	}

	/**
	 * Shard 0: sets (a number) or clears (null) the route's runtime limit, a total over all its shards. It is
	 * stored, so it survives restarts. Lowering it below the live count admits nothing new until the count drops
	 * under it; raising it admits waiters. Other shards learn it from `refreshLayout` or within COPY_TTL_MS.
	 */
	setLimit(limit: number | null, layout: Layout | null = null): LayoutState {
		const state = this.shares.setOverride(limit, layout, this.clock());
		this.drain(this.clock());
		return state;
	}

	/** Shard 0: another shard asks for the shares in force, telling which layouts its callers brought. */
	layoutFor(seen: SeenLayout[]): LayoutCopy {
		const copy = this.shares.answer(seen, this.clock());
		this.drain(this.clock());
		return copy;
	}

	/** Another shard: ask shard 0 for the shares now (the runtime limit changed). */
	async refreshLayout(route: ShardRoute): Promise<void> {
		await this.shares.refreshNow(route, this.clock);
		this.drain(this.clock());
	}

	/**
	 * An isolate's block: grown, shrunk, renewed or given back (src/object/blocks.ts), with its batched report.
	 * Sized against the limit in force (a shard's share, a runtime limit). Permits a block gives back go to
	 * waiters first. A route shard first makes sure it knows its share (see layout.ts).
	 */
	checkIn(msg: CheckIn): CheckInAnswer | Promise<CheckInAnswer> {
		if (msg.report) this.report(msg.report);
		const ready = msg.shard ? this.shares.prepare(msg.shard, this.clock()) : null;
		return ready ? ready.then(() => this.sizeBlock(msg)) : this.sizeBlock(msg);
	}

	/** Counts an isolate's batch of decisions, once, and the refusals of the route's perKey shares it made. */
	report(report: Report, keyRefused = 0, classRefused?: readonly number[]): void {
		this.table.absorb(report);
		if (classRefused) this.sharing.countLocalClassRefusals(classRefused);
		this.reported.keyRefused += keyRefused;
		this.reported.localRefused += report.localRefused;
		this.reported.gaugeErrors += report.gaugeErrors;
		this.reported.failOpen += report.failOpen;
	}

	status(adaptive?: AdaptiveSettings): GaugeStatus {
		if (adaptive) this.adaptive.configure(adaptive);
		const layout = this.shares.state();
		return {
			inFlight: this.table.inFlight(this.clock()),
			queued: this.queue.length,
			limitOverride: layout?.override ?? null,
			layout: layout ? { shares: [...layout.shares], layouts: layout.proposals.map(({ total, shards }) => ({ total, shards })) } : null,
			counters: { ...this.table.counters },
			countersSince: this.startedAt,
			holdEwmaMs: this.table.holdEwmaMs,
			holds: { ...this.table.holds, buckets: [...this.table.holds.buckets] },
			busiestKeys: this.table.busiestHolders(BUSIEST_HOLDERS),
			adaptive: this.adaptive.status(),
			reported: { ...this.reported },
			blocks: this.ledger.totals(this.clock()),
			...this.sharing.status(this.clock()),
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

	private admit(req: AcquireRequest): AcquireResult | Promise<AcquireResult> {
		// Releases the caller sent before this acquire land first, whichever call the runtime delivered first.
		for (const leaseId of req.releasing?.slice(0, MAX_RELEASING) ?? []) this.release(leaseId, req.maxHoldMs);
		const now = this.clock();
		this.sharing.arrived(req, now);
		if (!req.queue) return this.grant(req, now);
		// Permits freed by expiry go to those already waiting; nobody jumps the queue.
		this.drain(now);
		// A repeated acquire, or one whose id was already released (a tombstone), is answered at once, never queued.
		if (this.table.knows(req.leaseId, now)) return this.grant(req, now);
		// A class over its cap or a key over its fair share waits (or is refused) even with a permit free.
		const blocker = this.sharing.blocker(req, now);
		if (this.queue.length === 0 && this.table.hasRoom(this.limitFor(req, now), now) && !blocker) return this.grant(req, now, true);
		if (req.tentative) return this.refuse(req, blocker ?? "full", now);
		if (this.queue.length >= req.queue.size || !this.sharing.queueRoomFor(req)) return this.refuse(req, "queue-full", now);
		this.table.counters.queued++;
		const waiting = new Promise<AcquireResult>((resolve) => {
			const timer = setTimeout(() => {
				if (!this.queue.remove(req.leaseId)) return;
				this.sharing.queueChanged(this.clock());
				resolve(this.refuse(req, "queue-timeout", this.clock()));
			}, req.queue?.maxWaitMs);
			this.queue.push({ req, resolve, timer, at: now });
		});
		this.sharing.queueChanged(now);
		// Waiters ahead may all be over their shares or caps while this one is not: it need not wait.
		const head = this.queue.peek();
		if (head && this.sharing.ordered(head)) this.drain(now);
		return waiting;
	}

	/**
	 * The limit in force for a request: a route shard's share from the layout record, or a key's own limit. An
	 * adaptive route (always one shard) admits up to its learned limit, unless a runtime limit pins it.
	 */
	private limitFor(req: AcquireRequest, now: number): number {
		return this.withinLearned(req, req.shard ? this.shares.share(req.shard, now) : req.limit);
	}

	/** The quota a request's answer advertises: the route's total in force (learned, on an adaptive route), or the key's limit. */
	private quotaFor(req: AcquireRequest): number {
		return this.withinLearned(req, req.shard ? this.shares.total(req.shard) : req.limit);
	}

	/**
	 * On an adaptive route, the learned limit, never above what the layout record has in force: during a rollout
	 * from a fixed config, the old config's smaller limit still holds (the record takes the smaller of the two).
	 */
	private withinLearned(req: AcquireRequest, inForce: number): number {
		const learned = this.learnedLimit(req);
		return learned === null ? inForce : Math.min(learned, inForce);
	}

	/** The adaptive limit in force: null on a fixed route, or while a runtime limit (PUT …/limit) pins it. */
	private learnedLimit(req: AcquireRequest): number | null {
		if (!req.adaptive) return null;
		return (this.shares.state()?.override ?? null) === null ? this.adaptive.limit : null;
	}

	private sizeBlock(msg: CheckIn): CheckInAnswer {
		const now = this.clock();
		const req: AcquireRequest = {
			leaseId: msg.blockId,
			limit: msg.limit,
			maxHoldMs: msg.maxHoldMs,
			...(msg.shard ? { shard: msg.shard } : {}),
		};
		const limit = this.limitFor(req, now);
		this.refusals.checkedIn(msg.isolate, msg.want > 0, now);
		const { answer, refused } = checkInBlock(
			this.table,
			msg,
			{
				limit,
				quota: this.quotaFor(req),
				waiters: this.queue.length,
				lastRefusedAt: this.refusals.lastOtherThan(msg.isolate ?? null, now),
				share: this.refusals.share(limit, now),
			},
			now,
		);
		if (refused) this.noteRefusal(msg.isolate ?? null, now);
		this.ledger.checkedIn(msg.blockId, answer.count, msg.inUse, now + msg.windowMs + msg.maxHoldMs);
		this.scheduleReap(now + (answer.count > 0 ? msg.windowMs : 0) + msg.maxHoldMs);
		this.drain(now);
		return answer;
	}

	/** Someone was refused: pressure on the other isolates' blocks, and counted if blocks held spares meanwhile. */
	private noteRefusal(by: string | null, now: number): void {
		this.refusals.note(by, now);
		this.sharing.refused(now);
		this.ledger.refused(now);
	}

	/** `checked`: the caller already found the request within its class's cap and its key's fair share at `now`. */
	private grant(req: AcquireRequest, now: number, checked = false): AcquireResult {
		// A repeated acquire of a live lease is answered as granted whatever the caps and shares: it takes nothing new.
		if (!checked && (req.fair || req.priority) && !this.table.lease(req.leaseId)) {
			const blocker = this.sharing.blocker(req, now);
			// Over a class cap or a fair share is said even when the route is full too (those clients wait longer).
			if (blocker) return this.refuse(req, blocker, now);
		}
		const result = this.table.acquire({ ...req, limit: this.limitFor(req, now) }, now);
		if (result.ok) this.scheduleReap(result.expiresAt);
		// A tentative refusal is not a refusal (another shard answers for the request): no pressure, not counted.
		else if (!req.tentative) this.noteRefusal(req.isolate ?? null, now);
		this.sharing.countClass(req, result);
		return this.sharing.spread({ ...result, quota: this.quotaFor(req) }, req, now);
	}

	private refuse(req: AcquireRequest, reason: RefusalReason, now: number): AcquireResult {
		if (reason !== "cancelled" && !req.tentative) this.noteRefusal(req.isolate ?? null, now);
		this.sharing.countClass(req, { ok: false, reason });
		const refused = this.table.refuse({ ...req, limit: this.limitFor(req, now) }, reason, now);
		return this.sharing.spread({ ...refused, quota: this.quotaFor(req) }, req, now);
	}

	/** Admits waiters while permits are free: oldest first, or as sharing.ts orders them (classes, fair shares, adaptive queue). */
	private drain(now: number): void {
		for (let head = this.queue.peek(); head; head = this.queue.peek()) {
			const route = head.req.shard;
			if (route && this.shares.needsRefresh(route, now)) {
				// The copy of the shares ran out: ask shard 0 before granting anyone, then try again.
				void this.shares.prepare(route, now)?.then(
					() => this.drain(this.clock()),
					() => undefined,
				);
				return;
			}
			if (!this.table.hasRoom(this.limitFor(head.req, now), now)) return;
			const ordered = this.sharing.ordered(head);
			const next = ordered ? this.sharing.pickWaiter(head, now) : head;
			if (!next) return;
			this.queue.remove(next.req.leaseId);
			this.sharing.queueChanged(now);
			// CoDel: in a standing queue, a waiter that waited too long is shed, and the permit goes to the next one.
			if (this.sharing.shed(next, now)) {
				this.table.counters.shed++;
				next.resolve(this.refuse(next.req, "queue-timeout", now));
				continue;
			}
			next.resolve(this.grant(next.req, now, ordered));
		}
	}

	private scheduleReap(at: number): void {
		if (this.alarmAt !== null && this.alarmAt <= at) return;
		this.alarmAt = at;
		void this.ctx.storage.setAlarm(at);
	}
}
