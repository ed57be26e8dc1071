// Where leases live: SQLite in the Durable Object, or a Map for tests and the benchmark.

export interface Lease {
	readonly id: string;
	readonly acquiredAt: number;
	readonly expiresAt: number;
	/** A released lease stays as a tombstone until it expires, so a late duplicate acquire is refused. */
	readonly released: boolean;
}

/** Every method is synchronous: a lease table over it never yields between check and write. */
export interface LeaseStore {
	get(id: string): Lease | null;
	insert(lease: Lease): void;
	markReleased(id: string): void;
	/** Deletes every row with expiresAt <= now; returns how many of them were still live. */
	deleteExpired(now: number): number;
	countLive(): number;
	oldestLiveAcquiredAt(): number | null;
	nextExpiry(): number | null;
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
		if (lease) this.rows.set(id, { ...lease, released: true });
	}

	deleteExpired(now: number): number {
		let live = 0;
		for (const [id, lease] of this.rows) {
			if (lease.expiresAt > now) continue;
			if (!lease.released) live++;
			this.rows.delete(id);
		}
		return live;
	}

	countLive(): number {
		let n = 0;
		for (const lease of this.rows.values()) if (!lease.released) n++;
		return n;
	}

	oldestLiveAcquiredAt(): number | null {
		let oldest: number | null = null;
		for (const lease of this.rows.values()) {
			if (!lease.released && (oldest === null || lease.acquiredAt < oldest)) oldest = lease.acquiredAt;
		}
		return oldest;
	}

	nextExpiry(): number | null {
		let next: number | null = null;
		for (const lease of this.rows.values()) if (next === null || lease.expiresAt < next) next = lease.expiresAt;
		return next;
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
			released INTEGER NOT NULL DEFAULT 0
		) WITHOUT ROWID`);
		sql.exec("CREATE INDEX IF NOT EXISTS leases_by_expiry ON leases (expires_at)");
		sql.exec("CREATE INDEX IF NOT EXISTS live_leases ON leases (acquired_at) WHERE released = 0");
	}

	get(id: string): Lease | null {
		const row = this.sql
			.exec<{ acquired_at: number; expires_at: number; released: number }>(
				"SELECT acquired_at, expires_at, released FROM leases WHERE id = ?",
				id,
			)
			.toArray()[0];
		return row ? { id, acquiredAt: row.acquired_at, expiresAt: row.expires_at, released: row.released === 1 } : null;
	}

	insert(lease: Lease): void {
		this.sql.exec(
			"INSERT OR REPLACE INTO leases (id, acquired_at, expires_at, released) VALUES (?, ?, ?, ?)",
			lease.id,
			lease.acquiredAt,
			lease.expiresAt,
			lease.released ? 1 : 0,
		);
	}

	markReleased(id: string): void {
		this.sql.exec("UPDATE leases SET released = 1 WHERE id = ?", id);
	}

	deleteExpired(now: number): number {
		let live = 0;
		const gone = this.sql.exec<{ released: number }>("DELETE FROM leases WHERE expires_at <= ? RETURNING released", now);
		for (const row of gone) if (row.released === 0) live++;
		return live;
	}

	countLive(): number {
		return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM leases WHERE released = 0").one().n;
	}

	oldestLiveAcquiredAt(): number | null {
		return this.sql.exec<{ t: number | null }>("SELECT MIN(acquired_at) AS t FROM leases WHERE released = 0").one().t;
	}

	nextExpiry(): number | null {
		return this.sql.exec<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM leases").one().t;
	}
}
