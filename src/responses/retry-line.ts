// Retry-After that spreads the retries of refused clients over the time the freed permits can serve them. Pure, and
// shared by both sides: the route's object keeps the line, and an isolate goes on with it for the refusals it answers
// from memory (src/isolate/full-hints.ts).
//
// The refused clients form a virtual line: each refusal takes the next slot after the last one handed out (or after
// the estimated time a permit frees, if later), one slot being the time between two permits freeing (holdMs / limit).
// The line drains with the clock, not with arrivals, so a client refused again (it came back and lost the freed
// permit to someone else) goes to the back instead of being told the same short wait again; clients that never
// come back cost at most the line's cap. Where the clients land inside their slot is random (jitter, as Kong adds).

/** Clients over their fair share or their class's cap wait this many times longer per place in line. */
export const OVER_SHARE_FACTOR = 2;
/** The line is at most this many hold times long, and never shorter than MIN_LINE_MS. */
export const LINE_HOLDS = 10;
export const MIN_LINE_MS = 10_000;
/** And never longer than this: a Retry-After of minutes is as good as a failure to most clients. */
export const MAX_LINE_MS = 300_000;

/** How long the line may grow (ms ahead of now) for a route whose permits are held `holdMs` on average. */
export function lineCapMs(holdMs: number): number {
	return Math.min(MAX_LINE_MS, Math.max(MIN_LINE_MS, LINE_HOLDS * holdMs));
}

/** The time between two permits freeing on a route (ms): one slot of the line; twice that for a client over its share. */
export function slotMsOf(holdMs: number, limit: number, overShare: boolean): number {
	return (Math.max(1, holdMs) / Math.max(1, limit)) * (overShare ? OVER_SHARE_FACTOR : 1);
}

/** One refusal's place: where its slot starts (ms from now), and the slot's length and the line's cap it was taken with. */
export interface Slot {
	readonly startMs: number;
	readonly slotMs: number;
	readonly capMs: number;
	/** False when the line was full: the slot is a random one before the cap, outside the line. */
	readonly inLine: boolean;
}

/** A line of promised retry slots, in absolute time (ms). Pure: the caller passes the clock. */
export class RetryLine {
	/** When the last slot handed out ends. */
	private end = Number.NEGATIVE_INFINITY;

	/** Someone else handed out slots up to `at` (the object, for an isolate's copy): the next one starts after it. */
	after(at: number): void {
		this.end = Math.max(this.end, at);
	}

	/**
	 * Takes the next slot for a refusal at `now`: never before `freeInMs`, after every slot already handed out. Once the
	 * line reaches `capMs` ahead, a refusal is placed at random between `freeInMs` and the cap (the line stops growing).
	 */
	take(now: number, freeInMs: number, slotMs: number, capMs: number, random: number): Slot {
		const free = Math.max(0, freeInMs);
		const cap = Math.max(capMs, free + slotMs);
		const start = Math.max(now + free, this.end);
		if (start + slotMs - now > cap) return { startMs: free + random * (cap - slotMs - free), slotMs, capMs: cap, inLine: false };
		this.end = start + slotMs;
		return { startMs: start - now, slotMs, capMs: cap, inLine: true };
	}
}

/** A refused client's Retry-After (ms): a random point of its slot. */
export function retryAfterIn(slot: Slot, random: number): number {
	return Math.round(slot.startMs + random * slot.slotMs);
}
