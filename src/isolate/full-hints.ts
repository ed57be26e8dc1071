// An isolate's short memory that a gauge was full, so a flood is refused without a Durable Object call each.
// A hint only ever refuses, never admits, so it cannot push a gauge over its limit; its cost is permits
// left idle for at most the hint's lifetime. All state is plain data: no promise is ever shared between
// requests (workerd cancels continuations that cross request contexts).
//
// While a gauge is known full, requests are refused here until the hint lapses. Then, and whenever this
// isolate frees a permit or the object says permits are free, only as many requests as there are permits
// believed free ask the object ("probes"); the rest are still refused here. Every answer from the object
// corrects the belief.

import type { GaugeSpec, PermitResult } from "./permit-types.ts";

/** The shortest and longest a hint lives, whatever the Durable Object expects. */
export const MIN_HINT_MS = 50;
export const MAX_HINT_MS = 250;
/** A probe whose answer never comes stops counting after this long. (Under load a call takes far longer than idle.) */
export const PROBE_MS = 1_000;
/** A lapsed hint older than this is forgotten: requests ask the object as if it had never been full. */
export const FORGET_MS = 2_000;
/** Gauges remembered at most; the oldest goes first. */
const MAX_HINTS = 10_000;

export interface FullHint {
	readonly limit: number;
	/** The policy's quota in force, as the object last advertised it (for the RateLimit fields). */
	readonly quota: number;
	/** When a permit is likely free, as the Durable Object estimated it. */
	readonly freeAt: number;
}

interface Entry extends FullHint {
	/** Refuse everything here until then. */
	until: number;
	/** Permits believed free: how many probes may be out at once (never trusted to admit anything). */
	free: number;
	/** Probes out, and when the oldest of them stops counting. */
	probes: number;
	probesExpireAt: number;
}

/** What to do with a request: refuse it here, or ask the object (as a probe, when the gauge was full). */
export type Decision = { readonly refuse: FullHint } | { readonly probe: boolean };

/** The object's answer, as far as the hints care. */
export type Answer = {
	readonly granted: boolean;
	readonly full: boolean;
	readonly limit: number;
	readonly quota: number;
	readonly inFlight: number;
	readonly retryAfterMs: number;
};

export class FullHints {
	private readonly entries = new Map<string, Entry>();

	check(gauge: string, now: number): Decision {
		const entry = this.entries.get(gauge);
		if (!entry) return { probe: false };
		if (now < entry.until) return { refuse: entry };
		if (now - entry.until > FORGET_MS) {
			this.entries.delete(gauge);
			return { probe: false };
		}
		if (now >= entry.probesExpireAt) entry.probes = 0;
		// A lapsed hint is worth one look even if no permit is known to be free.
		if (entry.probes >= Math.max(1, entry.free)) return { refuse: entry };
		if (entry.probes === 0) entry.probesExpireAt = now + PROBE_MS;
		entry.probes++;
		return { probe: true };
	}

	/** Learns from the object's answer to a request (a probe or not). */
	answered(gauge: string, now: number, probe: boolean, answer: Answer): void {
		const entry = this.entries.get(gauge);
		if (entry && probe) entry.probes = Math.max(0, entry.probes - 1);
		const free = answer.limit - answer.inFlight;
		if (answer.full || (answer.granted && free <= 0)) {
			// A refusal, or a grant that took the last permit: full for about as long as the object expects.
			const ttl = Math.min(MAX_HINT_MS, Math.max(MIN_HINT_MS, answer.retryAfterMs));
			this.remember(gauge, {
				until: now + ttl,
				limit: answer.limit,
				quota: answer.quota,
				freeAt: now + answer.retryAfterMs,
				free: 0,
				probes: entry?.probes ?? 0,
				probesExpireAt: entry?.probesExpireAt ?? 0,
			});
		} else if (answer.granted && entry) {
			entry.free = free;
			entry.until = Math.min(entry.until, now);
		}
	}

	/** A probe's call failed: it no longer counts. */
	probeFailed(gauge: string): void {
		const entry = this.entries.get(gauge);
		if (entry) entry.probes = Math.max(0, entry.probes - 1);
	}

	/** This isolate gave a permit back (and the object has it): one more is free. */
	freed(gauge: string, now: number): void {
		const entry = this.entries.get(gauge);
		if (!entry) return;
		entry.free++;
		entry.until = Math.min(entry.until, now);
	}

	get size(): number {
		return this.entries.size;
	}

	private remember(gauge: string, entry: Entry): void {
		this.entries.delete(gauge);
		if (this.entries.size >= MAX_HINTS) {
			const oldest = this.entries.keys().next().value;
			if (oldest !== undefined) this.entries.delete(oldest);
		}
		this.entries.set(gauge, entry);
	}
}

/** One per isolate. */
export const fullHints = new FullHints();

/**
 * The isolate's "full" hint for the spec's gauge: a refusal answered from memory (no object call), or whether the
 * call about to be made is a probe. Requests that would wait (queue) or be admitted anyway (dry-run) always reach
 * the object (`hinted` false), and so do a fair route's: a key refused in an isolate's memory would be a demand its
 * object never saw, and the busy key would keep its larger share.
 */
export function consultHint(
	spec: GaugeSpec,
	now: number,
): { hinted: boolean; decision: { refuse: PermitResult & { kind: "refused" } } | { probe: boolean } } {
	const hinted = !spec.queue && !spec.dryRun && !spec.fair;
	const decision: Decision = hinted ? fullHints.check(spec.objectName, now) : { probe: false };
	if (!("refuse" in decision)) return { hinted, decision };
	const { limit, quota, freeAt } = decision.refuse;
	return {
		hinted,
		decision: { refuse: { kind: "refused", retryAfterMs: Math.max(0, freeAt - now), inFlight: limit, limit, quota, local: true } },
	};
}
