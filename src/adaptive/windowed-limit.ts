// Recomputes a limit once per window of samples rather than on every exchange: the algorithm's fixed cadence
// (Netflix concurrency-limits' WindowedLimit, which feeds its delegate one aggregate sample per window).
import type { Limit } from "./limit.ts";

export interface WindowOptions {
	/** A window lasts at least this long. */
	readonly windowMs: number;
	/** And holds at least this many samples (exchanges that started inside it, or drops). */
	readonly minSamples: number;
}

/**
 * A window counts as dropped when more than this share of its exchanges were: one is enough in a small window,
 * but at thousands a second a stray 502 in every window must not hold the limit at its floor.
 */
export const DROP_TOLERANCE = 0.01;

/**
 * Gathers samples until the window is long and full enough, then hands the delegate one sample: the window's
 * start, the median latency of the exchanges that *started* inside it, the most permits held, and whether any
 * exchange was dropped. Exchanges that started before the window opened ran under an earlier limit, so their
 * latency says little about this one; counting only the others stretches a window to at least one round trip
 * (TCP Vegas, too, adjusts once per round trip). The median, as Envoy's adaptive concurrency filter summarises
 * its samples, keeps one slow request from moving the limit. Drops count whenever they started, and the window
 * is dropped when more than DROP_TOLERANCE of its samples were.
 */
export class WindowedLimit implements Limit {
	readonly delegate: Limit;
	private readonly options: WindowOptions;
	private start: number | null = null;
	private rtts: number[] = [];
	private drops = 0;
	private maxInflight = 0;

	constructor(delegate: Limit, options: WindowOptions) {
		this.delegate = delegate;
		this.options = options;
	}

	get limit(): number {
		return this.delegate.limit;
	}

	onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
		const end = startTime + rtt;
		this.start ??= end;
		this.maxInflight = Math.max(this.maxInflight, inflight);
		if (didDrop) this.drops++;
		else if (startTime >= this.start) this.rtts.push(rtt);
		if (end - this.start < this.options.windowMs || this.rtts.length + this.drops < this.options.minSamples) return this.limit;
		const dropped = this.drops > DROP_TOLERANCE * (this.rtts.length + this.drops);
		const window = { start: this.start, rtt: median(this.rtts), inflight: this.maxInflight, didDrop: dropped };
		this.start = end;
		this.rtts = [];
		this.drops = 0;
		this.maxInflight = 0;
		return this.delegate.onSample(window.start, window.rtt, window.inflight, window.didDrop);
	}
}

/** NaN for no values. */
export function median(values: readonly number[]): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
