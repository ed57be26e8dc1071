// What a route shard may grant: shard 0 keeps the route's layout record (in SQLite); every other shard keeps a
// copy of the shares it got from shard 0, trusted for COPY_TTL_MS, and asks again before granting past that,
// or when a caller brings a layout the copy does not know.
import type { Layout, ShardRoute } from "../protocol.ts";
import type { LayoutCopy, LayoutState } from "./layout.ts";
import { COPY_TTL_MS, emptyLayoutState, LayoutRecord, layoutKey, totalOf } from "./layout.ts";

export type { ShardRoute } from "../protocol.ts";

/** A layout a shard's callers brought, and how long ago (a duration, so clocks of different objects do not matter). */
export interface SeenLayout extends Layout {
	readonly agoMs: number;
}

/** Asks shard 0 for the shares, telling it the layouts seen here. */
export type AskRecord = (record: string, seen: SeenLayout[]) => Promise<LayoutCopy>;

/** The record's stored state is written at least this often while layouts are seen, so a restart keeps it fresh. */
const SAVE_SEEN_MS = 10_000;

interface Copy {
	readonly shares: readonly number[];
	readonly layouts: ReadonlySet<string>;
	/** Grants stop at this time (measured from when the copy was asked for, so it never outlives what shard 0 allowed). */
	readonly validUntil: number;
}

export class ShardShares {
	private readonly sql: SqlStorage;
	private readonly ask: AskRecord;
	private record: LayoutRecord | null = null;
	private savedAt = Number.NEGATIVE_INFINITY;
	private copy: Copy | null = null;
	/** Layouts callers brought since the last time this shard asked shard 0, and when they last did. */
	private readonly seen = new Map<string, { layout: Layout; at: number }>();
	private asking: Promise<void> | null = null;
	private recordName: string | null = null;

	constructor(sql: SqlStorage, ask: AskRecord) {
		this.sql = sql;
		this.ask = ask;
		sql.exec("CREATE TABLE IF NOT EXISTS layout_record (id INTEGER PRIMARY KEY CHECK (id = 0), state TEXT NOT NULL)");
	}

	/**
	 * Gets this shard ready to grant for a caller: on shard 0, notes the caller's layout in the record; elsewhere,
	 * asks shard 0 when the copy is missing, expired or does not know the caller's layout. Null when ready now.
	 */
	prepare(route: ShardRoute, now: number): Promise<void> | null {
		if (route.index === 0) {
			this.note(route.layout, now);
			return null;
		}
		this.recordName = route.record;
		const key = layoutKey(route.layout);
		const copy = this.copy;
		this.seen.set(key, { layout: route.layout, at: now });
		if (copy && now < copy.validUntil && copy.layouts.has(key)) {
			// Ask again ahead of expiry, in the background, so steady traffic never waits for it.
			if (now >= copy.validUntil - COPY_TTL_MS / 2) void this.refresh(now).catch(() => undefined);
			return null;
		}
		return this.refresh(now);
	}

	/**
	 * Gets this shard ready to renew a lease for a caller: the record must learn of the renewal before it is granted,
	 * so that the caller's layout stays in force as long as the renewed lease can live (layout.ts, `retireAfterMs`).
	 * Shard 0 notes it at once; another shard asks shard 0, carrying the sighting, even with a valid copy.
	 */
	confirm(route: ShardRoute, clock: () => number): Promise<void> | null {
		if (route.index === 0) {
			this.note(route.layout, clock());
			return null;
		}
		return this.refreshNow(route, clock);
	}

	/** The share this shard may grant now; 0 when it has no valid copy (it must ask shard 0 first). */
	share(route: ShardRoute, now: number): number {
		if (route.index === 0) return this.loadRecord().state.shares[0] ?? 0;
		const copy = this.copy;
		return copy && now < copy.validUntil ? (copy.shares[route.index] ?? 0) : 0;
	}

	/** The route's total in force, as this shard knows it. */
	total(route: ShardRoute): number {
		const shares = route.index === 0 ? this.loadRecord().state.shares : (this.copy?.shares ?? []);
		return totalOf(shares);
	}

	/** True while this shard's copy is stale, so waiters must wait for a refresh before being granted. */
	needsRefresh(route: ShardRoute, now: number): boolean {
		return route.index !== 0 && !(this.copy && now < this.copy.validUntil);
	}

	/** Shard 0: another shard asks for the shares, reporting the layouts it saw. */
	answer(seen: readonly SeenLayout[], now: number): LayoutCopy {
		for (const { agoMs, ...layout } of seen) this.note(layout, now, now - Math.max(0, agoMs));
		if (this.loadRecord().settle(now)) this.save(now);
		return this.loadRecord().copy();
	}

	/** Shard 0: sets or clears the runtime limit (a route total), as a config with `layout` runs. */
	setOverride(total: number | null, layout: Layout | null, now: number): LayoutState {
		const record = this.loadRecord();
		if (layout) record.propose(layout, now);
		record.setOverride(total, now);
		this.save(now);
		return record.state;
	}

	/** Another shard: asks shard 0 now (after a runtime limit changed), after any ask already on its way. */
	async refreshNow(route: ShardRoute, clock: () => number): Promise<void> {
		this.recordName = route.record;
		// An answer already on its way may predate the change: wait for it, then ask again.
		await this.asking?.catch(() => undefined);
		const now = clock();
		this.seen.set(layoutKey(route.layout), { layout: route.layout, at: now });
		await this.refresh(now);
	}

	/** Shard 0's record, for the status; null on other shards and before any layout was seen. */
	state(): LayoutState | null {
		const state = this.loadRecord().state;
		return state.proposals.length > 0 || state.override !== null ? state : null;
	}

	private note(layout: Layout, now: number, seenAt = now): void {
		const record = this.loadRecord();
		const known = record.state.proposals.some((p) => layoutKey(p) === layoutKey(layout));
		const changed = record.propose(layout, now, seenAt);
		if (changed || !known || now - this.savedAt >= SAVE_SEEN_MS) this.save(now);
	}

	private refresh(now: number): Promise<void> {
		if (this.asking) return this.asking;
		const record = this.recordName;
		if (record === null) return Promise.reject(new Error("a shard asked for its shares before knowing its route"));
		const seen = [...this.seen.values()];
		this.seen.clear();
		const askedAt = now;
		this.asking = this.ask(
			record,
			seen.map(({ layout, at }) => ({ ...layout, agoMs: now - at })),
		)
			.then((copy) => {
				this.copy = { shares: copy.shares, layouts: new Set(copy.layouts), validUntil: askedAt + COPY_TTL_MS };
			})
			.catch((error: unknown) => {
				for (const entry of seen) if (!this.seen.has(layoutKey(entry.layout))) this.seen.set(layoutKey(entry.layout), entry);
				throw error;
			})
			.finally(() => {
				this.asking = null;
			});
		return this.asking;
	}

	private loadRecord(): LayoutRecord {
		if (this.record) return this.record;
		const row = this.sql.exec<{ state: string }>("SELECT state FROM layout_record WHERE id = 0").toArray()[0];
		this.record = new LayoutRecord(row ? (JSON.parse(row.state) as LayoutState) : emptyLayoutState(this.legacyOverride()));
		return this.record;
	}

	/**
	 * Objects from before the record stored a runtime limit per shard, as that shard's share. On shard 0 of an
	 * unsharded route (the common case) it is the route's total; on a sharded route it is less than the total,
	 * which errs on the safe side until the limit is set again.
	 */
	private legacyOverride(): number | null {
		const table = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'settings'").one();
		if (table.n === 0) return null;
		return this.sql.exec<{ value: number }>("SELECT value FROM settings WHERE name = 'limit'").toArray()[0]?.value ?? null;
	}

	private save(now: number): void {
		if (!this.record) return;
		this.sql.exec("INSERT OR REPLACE INTO layout_record (id, state) VALUES (0, ?)", JSON.stringify(this.record.state));
		this.savedAt = now;
	}
}
