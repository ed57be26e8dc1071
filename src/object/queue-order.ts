// Which waiter a freed permit goes to, and when a standing queue sheds: class, then fair share, then time (adaptive LIFO + CoDel).

/** What the order needs to know of a waiter. */
export interface Queued {
	/** Its priority class (0: most critical); 0 on a route without classes. */
	readonly priority: number;
	/** How far its key is below its fair share (share − held; larger goes first); 0 without fair shares. */
	readonly gap: number;
	readonly enqueuedAt: number;
}

/** CoDel's target wait and interval (ms) for one decision. */
export interface CodelSettings {
	readonly targetMs: number;
	readonly intervalMs: number;
}

/** What a route's config says of them: a number stays fixed; absent means auto, scaled to the route's mean hold time. */
export interface CodelConfig {
	readonly targetMs?: number;
	readonly intervalMs?: number;
}

/**
 * The auto target and interval. Facebook's 5 ms / 100 ms (folly/executors/Codel.cpp) are for RPCs that take about a
 * millisecond; against a 200 ms origin a 5 ms target sheds nearly every waiter (bench scenario 14: 43 % of capacity
 * admitted, FIFO 78 %). So the target is a quarter of the mean hold time, never below Facebook's 5 ms: CoDel sheds
 * (waits over 2 × target) only waits over half a hold, and an admitted request takes at most about 1.5 × the origin's
 * time. The interval is at least one mean hold, never below Facebook's 100 ms: a queue only counts as standing once it
 * outlived a whole hold, not just the burst that one release leaves behind.
 */
export const CODEL_AUTO = { targetPerHold: 0.25, minTargetMs: 5, minIntervalMs: 100 } as const;

/** The target and interval now: the config's fixed values, else auto from the mean hold time (`holdMs`). */
export function codelSettings(config: CodelConfig, holdMs: number): CodelSettings {
	return {
		targetMs: config.targetMs ?? Math.max(CODEL_AUTO.minTargetMs, CODEL_AUTO.targetPerHold * holdMs),
		intervalMs: config.intervalMs ?? Math.max(CODEL_AUTO.minIntervalMs, holdMs),
	};
}

export type QueueMode = "fifo" | "lifo";

/**
 * The waiter to serve next among those `eligible` accepts (the others are skipped, not blocking): the most critical
 * class, then the key furthest below its share, then the oldest (FIFO) or the newest (LIFO, under sustained overload).
 */
export function nextWaiter<W extends Queued>(waiters: Iterable<W>, mode: QueueMode, eligible: (w: W) => boolean): W | undefined {
	let best: W | undefined;
	for (const w of waiters) {
		if (!eligible(w)) continue;
		if (!best || before(w, best, mode)) best = w;
	}
	return best;
}

function before(a: Queued, b: Queued, mode: QueueMode): boolean {
	if (a.priority !== b.priority) return a.priority < b.priority;
	if (a.gap !== b.gap) return a.gap > b.gap;
	return mode === "fifo" ? a.enqueuedAt < b.enqueuedAt : a.enqueuedAt > b.enqueuedAt;
}

/**
 * Adaptive LIFO with CoDel, as Facebook serves its RPC queues ("Fail at scale", folly's Codel): once the queue has not
 * been empty for an interval it serves newest first (the newest are the ones whose clients still wait), and while the
 * smallest wait seen over the last interval stayed above the target, waiters that waited over twice the target are
 * shed instead of served. All times are passed in (ms), and so are the target and interval, per call: with the auto
 * settings they follow the route's mean hold time (codelSettings).
 */
export class AdaptiveQueue {
	/** Since when the queue has held someone; null while empty. */
	private busySince: number | null = null;
	/** The smallest wait seen in the current interval (folly's codelMinDelay), and when that interval started. */
	private minDelay = 0;
	/** The next wait starts a new interval's minimum (folly's codelResetDelay). */
	private reset = true;
	private intervalStart: number;
	private overloaded = false;

	constructor(now = 0) {
		this.intervalStart = now;
	}

	/** Tells how many wait now; call on every change of the queue. */
	observe(queued: number, now: number): void {
		if (queued === 0) this.busySince = null;
		else this.busySince ??= now;
	}

	/** FIFO normally; LIFO once the queue has not been empty for an interval. */
	mode(now: number, settings: CodelSettings): QueueMode {
		return this.busySince !== null && now - this.busySince >= settings.intervalMs ? "lifo" : "fifo";
	}

	/**
	 * A waiter is about to be served after waiting `delay` ms: true when it must be shed instead (CoDel). As folly's
	 * Codel::overloaded: at each interval's end, the queue counts as overloaded for the next interval if even the
	 * smallest wait of the one that ended was above the target; while overloaded, a wait above 2 × target is shed.
	 */
	shed(delay: number, now: number, settings: CodelSettings): boolean {
		if (now >= this.intervalStart + settings.intervalMs) {
			this.overloaded = this.minDelay > settings.targetMs;
			this.intervalStart = now;
			this.reset = true;
		}
		this.minDelay = this.reset ? delay : Math.min(this.minDelay, delay);
		this.reset = false;
		return this.overloaded && delay > 2 * settings.targetMs;
	}

	/** Overloaded (shedding) as of the last interval's end. */
	get shedding(): boolean {
		return this.overloaded;
	}
}

/**
 * The waiters a class (with the classes below it) may have queued: its headroom's share of the queue, at least one,
 * so a flood of low-priority waiters cannot fill the queue.
 */
export function queueCap(size: number, headroom: number): number {
	return Math.max(1, Math.floor(size * (1 - headroom) + 1e-9));
}
