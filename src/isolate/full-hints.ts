// An isolate's short memory that a gauge was full, so a flood is refused without a Durable Object call each.
// A hint only ever refuses, never admits, so it cannot push a gauge over its limit; its cost is permits
// left idle for at most the hint's lifetime. All state is plain data: no promise is ever shared between
// requests (workerd cancels continuations that cross request contexts).
//
// While a gauge is known full, requests are refused here until the hint lapses. Then, and whenever this
// isolate frees a permit or the object says permits are free, only as many requests as there are permits
// believed free ask the object ("probes"); the rest are still refused here. Every answer from the object
// corrects the belief.
//
// On a route with priority classes or fair shares a hint is about one class, or one key: the object refused that
// class at its cap, or that key at its share (or the route full for it), and the other classes and keys still ask
// the object. A key refused here was seen by the object at its last probe, so it stays an active key there (the
// hint lives far less than the object's activity window) and its demand still counts in everyone's shares.
//
// A refusal made here goes on with the object's retry line (src/responses/retry-line.ts): the object says where its
// line ends and how long a slot is, and each local refusal takes the next slot, so a flood refused from memory comes
// back spread out too. Several isolates each extend the line they were told about, so their slots overlap.
import type { RetryLineView } from "../protocol.ts";
import { RetryLine, retryAfterIn } from "../responses/retry-line.ts";
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

/** Why the object refused: the route (or the request's shard) full, the request's class at its cap, or its key at its share. */
export type HintScope = "full" | "class" | "key";

export interface FullHint {
	readonly limit: number;
	/** The policy's quota in force, as the object last advertised it (for the RateLimit fields). */
	readonly quota: number;
	/** When a permit is likely free, as the Durable Object estimated it. */
	readonly freeAt: number;
	readonly scope: HintScope;
}

interface Entry extends FullHint {
	/** The retry line as far as this isolate knows it (the object's, then its own slots), a slot's length (0: the object
	 * sent no line), and how far it may reach (absolute). */
	readonly line: RetryLine;
	slotMs: number;
	lineCap: number;
	/** Refuse everything here until then. */
	until: number;
	/** Permits believed free: how many probes may be out at once (never trusted to admit anything). */
	free: number;
	/** Probes out, and when the oldest of them stops counting. */
	probes: number;
	probesExpireAt: number;
	/**
	 * A key's hint that its whole route (or class) was full: the hint's route (`base`), and how many permits this
	 * isolate had freed on it when the hint was made. A permit freed since, by any key, is one more believed free.
	 */
	base: string;
	freesSeen: number;
}

/** What to do with a request: refuse it here, or ask the object (as a probe, when the gauge was full). */
export type Decision = { readonly refuse: FullHint } | { readonly probe: boolean };

/** The object's answer, as far as the hints care. */
export type Answer = {
	readonly granted: boolean;
	/** Refused for want of a permit: the gauge full, or (scope) the request's class or key at its cap or share. */
	readonly full: boolean;
	readonly scope?: HintScope;
	/** The retry line the refusal was placed in (objects older than it send none: no spread here then). */
	readonly line?: RetryLineView;
	readonly limit: number;
	readonly quota: number;
	readonly inFlight: number;
	readonly retryAfterMs: number;
};

export class FullHints {
	private readonly entries = new Map<string, Entry>();
	/** Permits this isolate freed per route (or class) whose keys have hints of their own (fair routes). */
	private readonly routeFrees = new Map<string, number>();

	/** `base`: the hint's route (or class), when the hint is a key's on a fair route. */
	check(gauge: string, now: number, base = gauge): Decision {
		const entry = this.entries.get(gauge);
		if (!entry) return { probe: false };
		const frees = this.routeFrees.get(base) ?? 0;
		if (base !== gauge && entry.scope === "full" && frees !== entry.freesSeen) {
			// Another key of the route gave a permit back here since: the route is not full any more, as far as we know.
			entry.free += Math.max(1, frees - entry.freesSeen);
			entry.freesSeen = frees;
			entry.until = Math.min(entry.until, now);
		}
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
	answered(gauge: string, now: number, probe: boolean, answer: Answer, base = gauge): void {
		const entry = this.entries.get(gauge);
		if (entry && probe) entry.probes = Math.max(0, entry.probes - 1);
		const free = answer.limit - answer.inFlight;
		if (answer.full || (answer.granted && free <= 0)) {
			// A refusal, or a grant that took the last permit: full for about as long as the object expects.
			const freeInMs = answer.line?.freeInMs ?? answer.retryAfterMs;
			// A grant that took the last permit is remembered only briefly, as before the retry line (its line only
			// spreads the refusals meanwhile): an adaptive route's object may raise its limit any moment.
			const ttl = Math.min(MAX_HINT_MS, Math.max(MIN_HINT_MS, answer.full ? freeInMs : answer.retryAfterMs));
			const slotMs = answer.line?.slotMs ?? 0;
			// The object placed this refusal in its line: the next local refusal goes after it (and after any made here).
			const line = entry?.line ?? new RetryLine();
			line.after(answer.full ? now + answer.retryAfterMs + slotMs : now + freeInMs);
			this.remember(gauge, {
				until: now + ttl,
				limit: answer.limit,
				quota: answer.quota,
				freeAt: now + freeInMs,
				scope: answer.full ? (answer.scope ?? "full") : "full",
				line,
				slotMs,
				lineCap: now + (answer.line?.capMs ?? 0),
				free: 0,
				probes: entry?.probes ?? 0,
				probesExpireAt: entry?.probesExpireAt ?? 0,
				base,
				freesSeen: this.routeFrees.get(base) ?? 0,
			});
		} else if (answer.granted && entry) {
			entry.free = free;
			entry.until = Math.min(entry.until, now);
		}
	}

	/**
	 * A refusal made at `now` from the hint of `gauge`: when its client should retry (ms), the next slot of the retry
	 * line as this isolate knows it, at a random point of it (`random` in [0, 1)). Without a line from the object (or a
	 * hint): the free estimate.
	 */
	retryAfter(gauge: string, now: number, random: () => number): number {
		const entry = this.entries.get(gauge);
		if (!entry) return 0;
		const free = Math.max(0, entry.freeAt - now);
		if (entry.slotMs <= 0) return free;
		return retryAfterIn(entry.line.take(now, free, entry.slotMs, entry.lineCap - now, random()), random());
	}

	/** A probe's call failed: it no longer counts. */
	probeFailed(gauge: string): void {
		const entry = this.entries.get(gauge);
		if (entry) entry.probes = Math.max(0, entry.probes - 1);
	}

	/**
	 * This isolate gave a permit back (and the object has it): one more is free. `base`: on a fair route, the key's
	 * route (or class), whose routeFreed for this same permit is then not counted a second time for this key.
	 */
	freed(gauge: string, now: number, base = gauge): void {
		const entry = this.entries.get(gauge);
		if (!entry) return;
		entry.free++;
		entry.until = Math.min(entry.until, now);
		if (base !== gauge) entry.freesSeen = this.routeFrees.get(base) ?? 0;
	}

	/** This isolate gave back a permit of a fair route (or class): every key's "full" hint there learns it when consulted. */
	routeFreed(base: string): void {
		if (this.routeFrees.size >= MAX_HINTS && !this.routeFrees.has(base)) this.routeFrees.clear();
		this.routeFrees.set(base, (this.routeFrees.get(base) ?? 0) + 1);
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
 * The hint a request of `spec` consults: its gauge's, narrowed to its priority class on a route with classes and to
 * its key on a fair route (the object decides those per class and per key).
 */
export function hintKey(spec: Pick<GaugeSpec, "objectName" | "fair" | "holder" | "priority">, priority = spec.priority?.index): string {
	const base = hintBase(spec, priority);
	return spec.fair && spec.holder ? `${base}\u0000key:${spec.holder}` : base;
}

/** The route's (or on a route with classes, the class's) part of a hint key: what a key's "full" hint is about. */
export function hintBase(spec: Pick<GaugeSpec, "objectName" | "priority">, priority = spec.priority?.index): string {
	return priority === undefined ? spec.objectName : `${spec.objectName}\u0000class:${priority}`;
}

/**
 * This isolate gave back a permit of `spec` (and the object has it): one more is free for its hint, and on a route
 * with classes for the hints of every more critical class too (a permit freed below them is room for them). A fair
 * route's other keys learn it when their hints are next consulted (routeFreed).
 */
export function freedFor(spec: GaugeSpec, now: number): void {
	const index = spec.priority?.index ?? 0;
	for (let i = 0; i <= index; i++) {
		const priority = spec.priority ? i : undefined;
		const base = hintBase(spec, priority);
		if (spec.fair) fullHints.routeFreed(base);
		fullHints.freed(hintKey(spec, priority), now, base);
	}
}

/**
 * The isolate's "full" hint for the spec's gauge (its class's, its key's): a refusal answered from memory (no object
 * call), or whether the call about to be made is a probe. Requests that would wait (queue) or be admitted anyway
 * (dry-run) always reach the object (`hinted` false).
 */
export function consultHint(
	spec: GaugeSpec,
	now: number,
	random: () => number = Math.random,
): { hinted: boolean; decision: { refuse: PermitResult & { kind: "refused" } } | { probe: boolean } } {
	const hinted = !spec.queue && !spec.dryRun;
	const key = hintKey(spec);
	const decision: Decision = hinted ? fullHints.check(key, now, hintBase(spec)) : { probe: false };
	if (!("refuse" in decision)) return { hinted, decision };
	const { limit, quota, scope } = decision.refuse;
	return {
		hinted,
		decision: {
			refuse: {
				kind: "refused",
				retryAfterMs: fullHints.retryAfter(key, now, random),
				inFlight: limit,
				limit,
				quota,
				local: true,
				...(scope === "key" ? { overShare: true } : {}),
				...(scope === "class" ? { classFull: true } : {}),
			},
		},
	};
}
