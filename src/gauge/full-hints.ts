// An isolate's short memory that a gauge was full, so a flood is refused without a Durable Object call each.
// A hint only ever refuses, never admits, so it cannot push a gauge over its limit; its cost is permits
// left idle for at most the hint's lifetime, which ends early when this isolate frees a permit itself or
// the object grants one. All state is plain data: no promise is ever shared between requests (workerd
// cancels continuations that cross request contexts).

/** The shortest and longest a hint lives, whatever the Durable Object expects. */
export const MIN_HINT_MS = 50;
export const MAX_HINT_MS = 250;
/** After a hint lapses, one request asks the object; the others are refused for at most this long meanwhile. */
export const PROBE_MS = 100;
/** A lapsed hint older than this is forgotten: the next requests ask the object as if it had never been full. */
export const FORGET_MS = 2_000;
/** Gauges remembered at most; the oldest goes first. */
const MAX_HINTS = 10_000;

export interface FullHint {
	/** Refuse locally until then. */
	readonly until: number;
	readonly limit: number;
	/** When a permit is likely free, as the Durable Object estimated it. */
	readonly freeAt: number;
}

interface Entry extends FullHint {
	/** While a probe is out (after the hint lapsed), others are refused until then. */
	probeUntil: number;
}

export class FullHints {
	private readonly entries = new Map<string, Entry>();

	/**
	 * Whether a request for the gauge should be refused here. Null means "ask the object": no hint, or the
	 * hint lapsed and this caller is now the one probe (the others are refused while it is out).
	 */
	check(gauge: string, now: number): FullHint | null {
		const entry = this.entries.get(gauge);
		if (!entry) return null;
		if (now < entry.until || now < entry.probeUntil) return entry;
		if (now - entry.until > FORGET_MS) {
			this.entries.delete(gauge);
			return null;
		}
		entry.probeUntil = now + PROBE_MS;
		return null;
	}

	/** The object refused because the gauge is full: full for about as long as it expects, within bounds. */
	full(gauge: string, now: number, limit: number, retryAfterMs: number): void {
		const ttl = Math.min(MAX_HINT_MS, Math.max(MIN_HINT_MS, retryAfterMs));
		this.entries.delete(gauge);
		if (this.entries.size >= MAX_HINTS) {
			const oldest = this.entries.keys().next().value;
			if (oldest !== undefined) this.entries.delete(oldest);
		}
		this.entries.set(gauge, { until: now + ttl, limit, freeAt: now + retryAfterMs, probeUntil: 0 });
	}

	/** The object granted a permit and said there is room left. */
	clear(gauge: string): void {
		this.entries.delete(gauge);
	}

	/**
	 * This isolate gave a permit back to a gauge it knew as full: one permit is free, so the next request
	 * asks the object (as the probe) and the others are refused while it is out, instead of all rushing in.
	 */
	freed(gauge: string, now: number): void {
		const entry = this.entries.get(gauge);
		if (!entry) return;
		this.entries.set(gauge, { ...entry, until: now, probeUntil: 0 });
	}

	get size(): number {
		return this.entries.size;
	}
}

/** One per isolate. */
export const fullHints = new FullHints();
