// Which keys of a fair route are active and how much each wanted lately, in bounded memory, plus whether the route is contended.

/** A key that asked within this window (or the one before) is active, and its peak want there still counts. */
export const ACTIVE_WINDOW_MS = 500;
/** Keys tracked at most; past it the key seen longest ago is forgotten (its leases still count: they are stored). */
export const MAX_ACTIVE_KEYS = 1_024;

interface Seen {
	/** When the key's current window began. */
	start: number;
	/** Its peak want in the current window, and in the window before (so a peak lives one to two windows). */
	current: number;
	previous: number;
}

export class ActiveKeys {
	private readonly keys = new Map<string, Seen>();
	private lastRefusedAt = Number.NEGATIVE_INFINITY;
	private readonly windowMs: number;
	private readonly maxKeys: number;

	constructor(windowMs = ACTIVE_WINDOW_MS, maxKeys = MAX_ACTIVE_KEYS) {
		this.windowMs = windowMs;
		this.maxKeys = maxKeys;
	}

	/** How many keys are tracked (never above maxKeys). */
	get size(): number {
		return this.keys.size;
	}

	/** `key` asks for a permit while holding and queueing `want - 1`: its want this window is at least `want`. */
	asked(key: string, want: number, now: number): void {
		const seen = this.roll(key, now) ?? { start: now, current: 0, previous: 0 };
		seen.current = Math.max(seen.current, want);
		// Re-inserting moves the key to the end: the map's first key is always the one seen longest ago.
		this.keys.delete(key);
		this.keys.set(key, seen);
		for (const oldest of this.keys.keys()) {
			if (this.keys.size <= this.maxKeys) break;
			this.keys.delete(oldest);
		}
	}

	/** Someone was refused: the route counts as contended for one window. */
	refused(now: number): void {
		this.lastRefusedAt = now;
	}

	/** Contended: requests are waiting, or someone was refused within the last window. */
	contended(now: number, waiters: number): boolean {
		return waiters > 0 || now - this.lastRefusedAt < this.windowMs;
	}

	/** Each active key's recent peak want; keys idle for two windows are dropped. */
	demand(now: number): Map<string, number> {
		const demand = new Map<string, number>();
		for (const key of [...this.keys.keys()]) {
			const seen = this.roll(key, now);
			if (seen) demand.set(key, Math.max(seen.current, seen.previous));
		}
		return demand;
	}

	/** Moves a key's windows forward to `now`; forgets it (returns null) once both windows are empty. */
	private roll(key: string, now: number): Seen | null {
		const seen = this.keys.get(key);
		if (!seen) return null;
		const windows = Math.floor((now - seen.start) / this.windowMs);
		if (windows >= 1) {
			seen.previous = windows === 1 ? seen.current : 0;
			seen.current = 0;
			seen.start += windows * this.windowMs;
		}
		if (seen.current === 0 && seen.previous === 0) {
			this.keys.delete(key);
			return null;
		}
		return seen;
	}
}
