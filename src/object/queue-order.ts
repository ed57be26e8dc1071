// Which waiter a freed permit goes to, and when a standing queue sheds: class, then fair share, then time (adaptive LIFO + CoDel).

/** What the order needs to know of a waiter. */
export interface Queued {
	/** Its priority class (0: most critical); 0 on a route without classes. */
	readonly priority: number;
	/** How far its key is below its fair share (share − held; larger goes first); 0 without fair shares. */
	readonly gap: number;
	readonly enqueuedAt: number;
}

/** Facebook's CoDel defaults (folly/executors/Codel.cpp): 5 ms target, 100 ms interval. */
export const CODEL_DEFAULTS = { targetMs: 5, intervalMs: 100 } as const;

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
 * shed instead of served. All times are passed in (ms).
 */
export class AdaptiveQueue {
	private readonly targetMs: number;
	private readonly intervalMs: number;
	/** Since when the queue has held someone; null while empty. */
	private busySince: number | null = null;
	/** The smallest wait seen in the current interval (folly's codelMinDelay), and when that interval ends. */
	private minDelay = 0;
	/** The next wait starts a new interval's minimum (folly's codelResetDelay). */
	private reset = true;
	private intervalEnd: number;
	private overloaded = false;

	constructor(settings: { targetMs: number; intervalMs: number } = CODEL_DEFAULTS, now = 0) {
		this.targetMs = settings.targetMs;
		this.intervalEnd = now + settings.intervalMs;
		this.intervalMs = settings.intervalMs;
	}

	/** Tells how many wait now; call on every change of the queue. */
	observe(queued: number, now: number): void {
		if (queued === 0) this.busySince = null;
		else this.busySince ??= now;
	}

	/** FIFO normally; LIFO once the queue has not been empty for an interval. */
	mode(now: number): QueueMode {
		return this.busySince !== null && now - this.busySince >= this.intervalMs ? "lifo" : "fifo";
	}

	/**
	 * A waiter is about to be served after waiting `delay` ms: true when it must be shed instead (CoDel). As folly's
	 * Codel::overloaded: at each interval's end, the queue counts as overloaded for the next interval if even the
	 * smallest wait of the one that ended was above the target; while overloaded, a wait above 2 × target is shed.
	 */
	shed(delay: number, now: number): boolean {
		if (now >= this.intervalEnd) {
			this.overloaded = this.minDelay > this.targetMs;
			this.intervalEnd = now + this.intervalMs;
			this.reset = true;
		}
		this.minDelay = this.reset ? delay : Math.min(this.minDelay, delay);
		this.reset = false;
		return this.overloaded && delay > 2 * this.targetMs;
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
