// TCP Vegas as a concurrency limit: estimate how many requests wait inside the origin from how far latency has
// risen above its no-load baseline, and keep that queue small (Brakmo & Peterson, "TCP Vegas: End to End
// Congestion Avoidance on a Global Internet", IEEE JSAC 13(8), 1995; as a request limit in Netflix
// concurrency-limits' VegasLimit). Pure: the clock is the samples' own start times.
import type { WindowLimit, WindowSample } from "./limit.ts";
import type { AdaptiveSettings } from "./settings.ts";

export type VegasPhase = "probe" | "slow-start" | "avoidance";

/** What survives a restart of the object holding the limit. */
export interface VegasState {
	readonly estimate: number;
	readonly baselineMs: number;
	/** When the baseline was measured (the samples' clock). */
	readonly measuredAt: number;
}

/**
 * Decides once per window (see WindowedLimit). With N requests at the origin and latency `rtt` against the no-load
 * `baseline`, `N × (1 − baseline / rtt)` of them are waiting rather than being served: Vegas's "diff". An origin with
 * C workers busy D ms each, holding N > C requests, answers in about D × N / C, and the estimate is N − C: exactly
 * its queue. The limit grows while that queue is under `alpha`, shrinks while it is over `beta`, and holds between
 * them, so the origin always has a little work waiting and never much.
 *
 * Where this differs from Netflix's VegasLimit, and why:
 * - N is the origin's own concurrency, from Little's law over the window (answers per ms × latency), not the
 *   permits held: a permit is also held in the Worker, on the object's calls and while a body is delivered, and
 *   counting those as queued would stop the limit short of the origin's capacity (by half on the local runtime).
 * - The baseline is measured, not guessed from the lowest latency seen under load: at the start and every
 *   `probeIntervalMs`, the limit is pinned to `min` for one window and that window's median latency becomes the
 *   baseline (Envoy's adaptive concurrency filter measures its minRTT the same way). A baseline taken under load
 *   would hide the queue for good; one that only ever falls could never follow an origin that got slower.
 * - It starts with Vegas's slow start (the paper's §3.3): the limit doubles every other window (the window
 *   between measures the doubled limit) until a queue appears, and then sheds that queue at once.
 * - A drop lowers the limit by `backoff` (multiplicative decrease as in AIMD), and always by at least what the
 *   worst latency would, so errors lower it faster than latency and the reaction stays monotone.
 * - A new lowest latency is taken as the baseline and acted on (as no queue) rather than skipped, again so that
 *   lower latency never means a lower limit.
 * Thresholds scale with log10 of the limit, as VegasLimit's do, so a queue of 3 is not noise at 1 000.
 */
export class VegasLimit implements WindowLimit {
	private readonly settings: AdaptiveSettings;
	private estimate: number;
	private current: VegasPhase = "probe";
	private resume: Exclude<VegasPhase, "probe"> = "slow-start";
	private measuredAt: number | null = null;
	private baselineMs: number | null = null;
	private recentMs: number | null = null;
	private queueEstimate: number | null = null;
	/** In slow start, the window after a doubling only measures. */
	private justDoubled = false;

	constructor(settings: AdaptiveSettings, restored?: VegasState) {
		this.settings = settings;
		this.estimate = settings.initial;
		if (restored) {
			this.estimate = clamp(restored.estimate, settings.min, settings.max);
			this.baselineMs = restored.baselineMs;
			this.measuredAt = restored.measuredAt;
			this.current = "avoidance";
			this.resume = "avoidance";
		}
	}

	/** While probing, the floor; otherwise the learned limit. */
	get limit(): number {
		return this.current === "probe" ? this.settings.min : Math.floor(this.estimate);
	}

	/** The learned limit, also while a probe pins the one in force to `min`. */
	get learned(): number {
		return Math.floor(this.estimate);
	}

	get phase(): VegasPhase {
		return this.current;
	}

	/** What the algorithm sees: the no-load latency, the last window's median, and the queue it estimates. */
	get view(): { baselineMs: number | null; recentMs: number | null; queue: number | null } {
		return { baselineMs: this.baselineMs, recentMs: this.recentMs, queue: this.queueEstimate };
	}

	get state(): VegasState | null {
		if (this.baselineMs === null || this.measuredAt === null) return null;
		return { estimate: this.estimate, baselineMs: this.baselineMs, measuredAt: this.measuredAt };
	}

	onWindow({ start: startTime, rtt, inflight, concurrency, didDrop }: WindowSample): number {
		const { min, max, backoff, probeIntervalMs } = this.settings;
		const log = log10Root(this.estimate);
		const before = this.estimate;
		if (this.current === "probe") {
			// Only exchanges admitted under the pinned floor count (the window's own), so this is the no-load latency.
			if (Number.isFinite(rtt)) this.endProbe(startTime, rtt);
		} else if (Number.isFinite(rtt)) {
			this.recentMs = rtt;
			this.baselineMs = Math.min(this.baselineMs ?? rtt, rtt);
			// Too few in flight to fill the limit: the latency says nothing about a larger one (app-limited).
			if (inflight * 2 >= this.estimate) this.adjust(rtt, concurrency, log);
		}
		if (didDrop) {
			// Lower by `backoff`, by at least one step, and never less than the latency alone just did (leaving
			// slow start can shed more than a backoff would).
			this.estimate = Math.min(this.estimate, before * backoff, before - log);
			if (this.current === "slow-start") this.current = "avoidance";
			if (this.resume === "slow-start") this.resume = "avoidance";
		}
		this.estimate = clamp(this.estimate, min, max);
		if (this.current !== "probe" && this.measuredAt !== null && startTime - this.measuredAt >= probeIntervalMs) {
			this.resume = this.current;
			this.current = "probe";
		}
		return this.limit;
	}

	private endProbe(startTime: number, rtt: number): void {
		this.baselineMs = rtt;
		this.recentMs = rtt;
		this.queueEstimate = 0;
		this.measuredAt = startTime;
		this.current = this.resume;
	}

	private adjust(rtt: number, concurrency: number, log: number): void {
		const { alpha, beta } = this.settings;
		const queue = Math.ceil(concurrency * (1 - (this.baselineMs ?? rtt) / rtt));
		this.queueEstimate = queue;
		if (this.current === "slow-start") {
			if (queue <= log) {
				// Limited slow start: double only while the origin itself serves at least half the limit (Little's law
				// over the window). Permits it does not serve only queue inside it before its latency shows that queue:
				// an overshoot to 4-5 C was seen end to end, and shedding it took seconds.
				if (!this.justDoubled && 2 * concurrency >= this.estimate) this.estimate *= 2;
				this.justDoubled = !this.justDoubled;
				return;
			}
			// Overshot: drop the queue at once, one above the rate actually served (Linux's tcp_vegas does the same
			// on leaving slow start: cwnd = min(cwnd, target_cwnd + 1)), then go on one step at a time.
			this.current = "avoidance";
			this.estimate = Math.min(this.estimate, this.estimate - queue + 1);
			return;
		}
		if (queue <= log) this.estimate += beta * log;
		else if (queue < alpha * log) this.estimate += log;
		// Above beta: one step, or half the excess when the queue is far above it (an overshoot that latency revealed
		// late, e.g. just after slow start), so a queue of 14 is shed in a few windows rather than fourteen.
		else if (queue > beta * log) this.estimate -= Math.max(log, Math.floor((queue - beta * log) / 2));
	}
}

/** max(1, ⌊log10 x⌋): VegasLimit's step and threshold scale (1 below 100, 2 below 1 000, …). */
export function log10Root(x: number): number {
	return Math.max(1, Math.floor(Math.log10(Math.max(1, x))));
}

function clamp(x: number, min: number, max: number): number {
	return Math.max(min, Math.min(max, x));
}
