// An isolate's short memory that a gauge was full, so a flood is refused without a Durable Object call each.
// A hint only ever refuses, never admits, so it cannot push a gauge over its limit; its cost is permits
// left idle for at most the hint's lifetime, which this isolate ends early when it releases a permit itself.

/** The shortest and longest a hint lives, whatever the Durable Object expects. */
export const MIN_HINT_MS = 20;
export const MAX_HINT_MS = 250;
/** Gauges remembered at most; the oldest hint goes first. */
const MAX_HINTS = 10_000;

export interface FullHint {
	readonly until: number;
	readonly limit: number;
	/** When a permit is likely free, as the Durable Object estimated it. */
	readonly freeAt: number;
}

export class FullHints {
	private readonly hints = new Map<string, FullHint>();
	/** One Durable Object call per gauge that others may wait on instead of making their own. */
	private readonly probes = new Map<string, Promise<unknown>>();

	/**
	 * Makes `call` the gauge's probe unless one is already out. While it is out, other requests wait for
	 * it (`settled`) and then look at the hint it left: so when the hint lapses under a flood, one call
	 * finds out whether the gauge is still full, not one call per waiting request.
	 */
	watch(gauge: string, call: Promise<unknown>): void {
		if (this.probes.has(gauge)) return;
		const probe = call.then(
			() => undefined,
			() => undefined,
		);
		this.probes.set(gauge, probe);
		void probe.then(() => this.probes.delete(gauge));
	}

	/** The probe out for this gauge, if any. */
	probe(gauge: string): Promise<unknown> | undefined {
		return this.probes.get(gauge);
	}

	/** The live hint for a gauge, if any. */
	get(gauge: string, now: number): FullHint | null {
		const hint = this.hints.get(gauge);
		if (!hint) return null;
		if (now >= hint.until) {
			this.hints.delete(gauge);
			return null;
		}
		return hint;
	}

	/** Remembers a refusal: full for about as long as the object expects, within [MIN_HINT_MS, MAX_HINT_MS]. */
	set(gauge: string, now: number, limit: number, retryAfterMs: number): void {
		const ttl = Math.min(MAX_HINT_MS, Math.max(MIN_HINT_MS, retryAfterMs));
		this.hints.delete(gauge);
		if (this.hints.size >= MAX_HINTS) {
			const oldest = this.hints.keys().next().value;
			if (oldest !== undefined) this.hints.delete(oldest);
		}
		this.hints.set(gauge, { until: now + ttl, limit, freeAt: now + retryAfterMs });
	}

	/** This isolate just freed a permit of the gauge: it is not full any more. */
	clear(gauge: string): void {
		this.hints.delete(gauge);
	}

	get size(): number {
		return this.hints.size;
	}
}

/** One per isolate. */
export const fullHints = new FullHints();
