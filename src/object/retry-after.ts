// Retry-After that spreads the retries of refused clients over the time the freed permits can serve them.

/** Clients over their fair share or their class's cap wait this many times longer per place in line. */
export const OVER_SHARE_FACTOR = 2;
/** Refusals remembered at most (their times): past it the place in line stops growing, and memory stays bounded. */
export const MAX_LINE = 10_000;

export interface RetryInput {
	/** When a permit is estimated to free (ms from now): the oldest lease's expected end. */
	readonly freeInMs: number;
	/** This refusal's place among the refusals of the last hold time (1: the first). */
	readonly place: number;
	readonly limit: number;
	/** The average hold time (ms): `limit` permits free about every `holdMs`. */
	readonly holdMs: number;
	/** Uniform in [0, 1): where in its slot this client lands. */
	readonly random: number;
	/** Refused for being over its key's fair share or its class's cap: it waits longer than those under theirs. */
	readonly overShare: boolean;
}

/**
 * When a refused client should retry (ms): never before a permit is estimated to free, then one slot (the time
 * between two permits freeing, holdMs / limit) per client refused before it in the last hold time, at a random point
 * of its own slot, so a burst of refused clients comes back spread out at the rate permits free rather than all in
 * the same second (as Kong jitters its Retry-After). Twice the slots for a client over its share.
 */
export function spreadRetryAfter(input: RetryInput): number {
	const slotMs = (input.holdMs / Math.max(1, input.limit)) * (input.overShare ? OVER_SHARE_FACTOR : 1);
	const place = Math.max(1, input.place);
	return Math.round(Math.max(0, input.freeInMs) + (place - 1 + input.random) * slotMs);
}

/** The refusals of the last window, by time: each new one learns its place in line. */
export class RefusalLine {
	private readonly times: number[] = [];

	/** Counts a refusal at `now` and returns its place among those of the last `windowMs` (1: the first). */
	place(now: number, windowMs: number): number {
		while (this.times.length > 0 && (this.times[0] ?? now) <= now - windowMs) this.times.shift();
		if (this.times.length >= MAX_LINE) this.times.shift();
		this.times.push(now);
		return this.times.length;
	}
}
