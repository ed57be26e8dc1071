// Where leases live: SQLite in the Durable Object, or a Map for tests and the benchmark.

/**
 * - live: held, counted; expiring live is a leak (reaped).
 * - ending: given back by a cut exchange whose origin may still be working: counted until it expires, then gone
 *   without counting as reaped (cutRelease).
 * - released: given back; stays as a tombstone until it expires, so a late duplicate acquire is refused.
 */
export type LeaseState = "live" | "ending" | "released";

export interface Lease {
	readonly id: string;
	readonly acquiredAt: number;
	readonly expiresAt: number;
	readonly state: LeaseState;
	/** Who holds it within the gauge (a key's object name), or null. */
	readonly holder: string | null;
	/** Permits the lease holds: 1, or a block's size (a block leased to an isolate; docs/blocks.md). Default 1. */
	readonly count?: number;
	/** A block's permits in use at its last check-in (a single lease has none: its one permit is in use). */
	readonly inUse?: number;
	/** The request's priority class (its index, 0: most critical) on a route with classes; null or absent elsewhere. */
	readonly priority?: number | null;
}

/** What Retry-After is estimated from: the oldest single lease, and how many block permits are in use. */
export interface HoldState {
	readonly oldestSingleAcquiredAt: number | null;
	readonly blockPermitsInUse: number;
}

/** The state as stored in SQLite's `released` column (0 and 1 were its meanings before "ending" existed). */
const STORED: Record<LeaseState, number> = { live: 0, released: 1, ending: 2 };
const STATE_OF = ["live", "released", "ending"] as const;

/** Every method is synchronous: a lease table over it never yields between check and write. */
export interface LeaseStore {
	get(id: string): Lease | null;
	insert(lease: Lease): void;
	markReleased(id: string): void;
	/** Moves a live lease's expiry; one given back (released or ending) is left as it is. */
	setExpiry(id: string, expiresAt: number): void;
	/** Given back, but counted until `expiresAt` (which is never later than the lease's own). */
	markEnding(id: string, expiresAt: number): void;
	/**
	 * Deletes every row with expiresAt <= now; returns how many permits they still held in use (leaked): 1 for a
	 * live single lease, a live block's in-use count as of its last check-in (its idle spares leaked nothing).
	 */
	deleteExpired(now: number): number;
	/** Resizes a live lease (a block): its count, its permits in use, and its expiry. */
	setBlock(id: string, count: number, inUse: number, expiresAt: number): void;
	/** Permits held by leases that count against the limit (live and ending ones): the sum of their counts. */
	countLive(): number;
	holdState(): HoldState;
	nextExpiry(): number | null;
	/** The holders with the most counted leases, most first. */
	busiestHolders(n: number): { holder: string; inFlight: number }[];
	/** Permits counted per holder (null: leases without one), for a fair route's shares. */
	holderCounts(): Map<string | null, number>;
	/** Permits counted per priority class (null: leases without one), for class caps. */
	classCounts(): Map<number | null, number>;
}

/** How many of the busiest holders a status lists. */
export const BUSIEST_HOLDERS = 10;

/** The `n` holders with the highest counts, most first. */
export function rankHolders(counts: ReadonlyMap<string, number>, n: number): { holder: string; inFlight: number }[] {
	return [...counts]
		.map(([holder, inFlight]) => ({ holder, inFlight }))
		.sort((a, b) => b.inFlight - a.inFlight)
		.slice(0, n);
}

export class MemoryLeaseStore implements LeaseStore {
	private readonly rows = new Map<string, Lease>();

	get(id: string): Lease | null {
		return this.rows.get(id) ?? null;
	}

	insert(lease: Lease): void {
		this.rows.set(lease.id, lease);
	}

	markReleased(id: string): void {
		const lease = this.rows.get(id);
		if (lease) this.rows.set(id, { ...lease, state: "released" });
	}

	markEnding(id: string, expiresAt: number): void {
		const lease = this.rows.get(id);
		if (lease) this.rows.set(id, { ...lease, state: "ending", expiresAt: Math.min(lease.expiresAt, expiresAt) });
	}

	setExpiry(id: string, expiresAt: number): void {
		const lease = this.rows.get(id);
		if (lease?.state === "live") this.rows.set(id, { ...lease, expiresAt });
	}

	setBlock(id: string, count: number, inUse: number, expiresAt: number): void {
		const lease = this.rows.get(id);
		if (lease?.state === "live") this.rows.set(id, { ...lease, count, inUse, expiresAt });
	}

	deleteExpired(now: number): number {
		let leaked = 0;
		for (const [id, lease] of this.rows) {
			if (lease.expiresAt > now) continue;
			if (lease.state === "live") leaked += lease.inUse ?? lease.count ?? 1;
			this.rows.delete(id);
		}
		return leaked;
	}

	countLive(): number {
		let n = 0;
		for (const lease of this.rows.values()) if (lease.state !== "released") n += lease.count ?? 1;
		return n;
	}

	holdState(): HoldState {
		let oldest: number | null = null;
		let blocks = 0;
		for (const lease of this.rows.values()) {
			if (lease.state === "released") continue;
			if (lease.inUse !== undefined) blocks += lease.inUse;
			else if (oldest === null || lease.acquiredAt < oldest) oldest = lease.acquiredAt;
		}
		return { oldestSingleAcquiredAt: oldest, blockPermitsInUse: blocks };
	}

	nextExpiry(): number | null {
		let next: number | null = null;
		for (const lease of this.rows.values()) if (next === null || lease.expiresAt < next) next = lease.expiresAt;
		return next;
	}

	busiestHolders(n: number): { holder: string; inFlight: number }[] {
		const counts = new Map<string, number>();
		for (const lease of this.rows.values()) {
			if (lease.state !== "released" && lease.holder !== null) counts.set(lease.holder, (counts.get(lease.holder) ?? 0) + 1);
		}
		return rankHolders(counts, n);
	}

	holderCounts(): Map<string | null, number> {
		const counts = new Map<string | null, number>();
		for (const lease of this.rows.values()) {
			if (lease.state !== "released") counts.set(lease.holder, (counts.get(lease.holder) ?? 0) + (lease.count ?? 1));
		}
		return counts;
	}

	classCounts(): Map<number | null, number> {
		const counts = new Map<number | null, number>();
		for (const lease of this.rows.values()) {
			const priority = lease.priority ?? null;
			if (lease.state !== "released") counts.set(priority, (counts.get(priority) ?? 0) + (lease.count ?? 1));
		}
		return counts;
	}
}

/** Leases in the Durable Object's SQLite database: they survive eviction, restarts and deploys. */
export class SqlLeaseStore implements LeaseStore {
	private readonly sql: SqlStorage;

	constructor(sql: SqlStorage) {
		this.sql = sql;
		sql.exec(`CREATE TABLE IF NOT EXISTS leases (
			id TEXT PRIMARY KEY,
			acquired_at INTEGER NOT NULL,
			expires_at INTEGER NOT NULL,
			released INTEGER NOT NULL DEFAULT 0,
			holder TEXT
		) WITHOUT ROWID`);
		// Objects created before leases had holders get the column (a no-op for new ones).
		const columns = sql.exec<{ name: string }>("PRAGMA table_info(leases)").toArray();
		if (!columns.some((c) => c.name === "holder")) sql.exec("ALTER TABLE leases ADD COLUMN holder TEXT");
		if (!columns.some((c) => c.name === "count")) sql.exec("ALTER TABLE leases ADD COLUMN count INTEGER NOT NULL DEFAULT 1");
		// A block's permits in use at its last check-in (NULL for single leases), so an expired block counts its leaks.
		if (!columns.some((c) => c.name === "in_use")) sql.exec("ALTER TABLE leases ADD COLUMN in_use INTEGER");
		if (!columns.some((c) => c.name === "class")) sql.exec("ALTER TABLE leases ADD COLUMN class INTEGER");
		sql.exec("CREATE INDEX IF NOT EXISTS leases_by_expiry ON leases (expires_at)");
		// Counted leases: live (0) and ending (2). Replaces the index of live leases only.
		sql.exec("DROP INDEX IF EXISTS live_leases");
		sql.exec("CREATE INDEX IF NOT EXISTS counted_leases ON leases (acquired_at) WHERE released <> 1");
	}

	get(id: string): Lease | null {
		const row = this.sql
			.exec<{ acquired_at: number; expires_at: number; released: number; holder: string | null; count: number; in_use: number | null }>(
				"SELECT acquired_at, expires_at, released, holder, count, in_use FROM leases WHERE id = ?",
				id,
			)
			.toArray()[0];
		if (!row) return null;
		return {
			id,
			acquiredAt: row.acquired_at,
			expiresAt: row.expires_at,
			state: STATE_OF[row.released] ?? "released",
			holder: row.holder,
			count: row.count,
			...(row.in_use === null ? {} : { inUse: row.in_use }),
		};
	}

	insert(lease: Lease): void {
		this.sql.exec(
			"INSERT OR REPLACE INTO leases (id, acquired_at, expires_at, released, holder, count, in_use, class) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			lease.id,
			lease.acquiredAt,
			lease.expiresAt,
			STORED[lease.state],
			lease.holder,
			lease.count ?? 1,
			lease.inUse ?? null,
			lease.priority ?? null,
		);
	}

	markReleased(id: string): void {
		this.sql.exec("UPDATE leases SET released = 1 WHERE id = ?", id);
	}

	setExpiry(id: string, expiresAt: number): void {
		this.sql.exec("UPDATE leases SET expires_at = ? WHERE id = ? AND released = 0", expiresAt, id);
	}

	markEnding(id: string, expiresAt: number): void {
		this.sql.exec("UPDATE leases SET released = 2, expires_at = MIN(expires_at, ?) WHERE id = ?", expiresAt, id);
	}

	setBlock(id: string, count: number, inUse: number, expiresAt: number): void {
		this.sql.exec("UPDATE leases SET count = ?, in_use = ?, expires_at = ? WHERE id = ? AND released = 0", count, inUse, expiresAt, id);
	}

	deleteExpired(now: number): number {
		let leaked = 0;
		const gone = this.sql.exec<{ released: number; held: number }>(
			"DELETE FROM leases WHERE expires_at <= ? RETURNING released, COALESCE(in_use, count) AS held",
			now,
		);
		for (const row of gone) if (row.released === 0) leaked += row.held;
		return leaked;
	}

	countLive(): number {
		return this.sql.exec<{ n: number }>("SELECT COALESCE(SUM(count), 0) AS n FROM leases WHERE released <> 1").one().n;
	}

	holdState(): HoldState {
		const row = this.sql
			.exec<{ t: number | null; n: number }>(
				"SELECT MIN(CASE WHEN in_use IS NULL THEN acquired_at END) AS t, COALESCE(SUM(in_use), 0) AS n FROM leases WHERE released <> 1",
			)
			.one();
		return { oldestSingleAcquiredAt: row.t, blockPermitsInUse: row.n };
	}

	nextExpiry(): number | null {
		return this.sql.exec<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM leases").one().t;
	}

	busiestHolders(n: number): { holder: string; inFlight: number }[] {
		return this.sql
			.exec<{ holder: string; inFlight: number }>(
				"SELECT holder, COUNT(*) AS inFlight FROM leases WHERE released <> 1 AND holder IS NOT NULL GROUP BY holder ORDER BY inFlight DESC LIMIT ?",
				n,
			)
			.toArray();
	}
	holderCounts(): Map<string | null, number> {
		const rows = this.sql.exec<{ holder: string | null; n: number }>(
			"SELECT holder, SUM(count) AS n FROM leases WHERE released <> 1 GROUP BY holder",
		);
		return new Map([...rows].map((row) => [row.holder, row.n]));
	}

	classCounts(): Map<number | null, number> {
		const rows = this.sql.exec<{ class: number | null; n: number }>(
			"SELECT class, SUM(count) AS n FROM leases WHERE released <> 1 GROUP BY class",
		);
		return new Map([...rows].map((row) => [row.class, row.n]));
	}
}
