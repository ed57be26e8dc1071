// Recomputes a limit once per window of samples rather than on every exchange: the algorithm's fixed cadence
// (Netflix concurrency-limits' WindowedLimit, which feeds its delegate one aggregate sample per window).
import type { Limit, WindowLimit } from "./limit.ts";

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
 * Gathers samples until the window is long and full enough, then hands the algorithm one summary (WindowSample).
 * Its latency is the median of the exchanges that *started* inside the window: those that started before ran under
 * an earlier limit, and counting only the others stretches a window to at least one round trip (TCP Vegas, too,
 * adjusts once per round trip). The median, as Envoy's adaptive concurrency filter summarises its samples, keeps one
 * slow request from moving the limit. Drops count whenever they started, and the window is dropped when more than
 * DROP_TOLERANCE of its samples were.
 */
export class WindowedLimit implements Limit {
	readonly delegate: WindowLimit;
	private readonly options: WindowOptions;
	private start: number | null = null;
	private latest = 0;
	private rtts: number[] = [];
	/** Exchanges answered (not dropped) in the window, whenever they started: the origin's throughput. */
	private answered = 0;
	private drops = 0;
	private maxInflight = 0;

	constructor(delegate: WindowLimit, options: WindowOptions) {
		this.delegate = delegate;
		this.options = options;
	}

	get limit(): number {
		return this.delegate.limit;
	}

	onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
		const end = startTime + rtt;
		this.start ??= end;
		this.latest = Math.max(this.latest, end);
		this.maxInflight = Math.max(this.maxInflight, inflight);
		if (didDrop) this.drops++;
		else {
			this.answered++;
			if (startTime >= this.start) this.rtts.push(rtt);
		}
		const duration = this.latest - this.start;
		if (duration < this.options.windowMs || this.rtts.length + this.drops < this.options.minSamples) return this.limit;
		const latency = median(this.rtts);
		const window = {
			start: this.start,
			rtt: latency,
			inflight: this.maxInflight,
			concurrency: (this.answered / duration) * latency,
			didDrop: this.drops > DROP_TOLERANCE * (this.rtts.length + this.drops),
		};
		this.start = this.latest;
		this.rtts = [];
		this.answered = 0;
		this.drops = 0;
		this.maxInflight = 0;
		return this.delegate.onWindow(window);
	}
}

/** NaN for no values. */
export function median(values: readonly number[]): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
