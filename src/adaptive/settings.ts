// A route's adaptive-limit settings (`adaptive = { … }` in wrangler.toml) and their defaults, in one place.

export interface AdaptiveSettings {
	/** The floor: the limit never goes below it, and the no-load latency is measured with the limit pinned to it. */
	readonly min: number;
	/** The ceiling: the limit never goes above it. */
	readonly max: number;
	/** Where the limit starts once the first no-load latency is measured. */
	readonly initial: number;
	/** The shortest window of samples the limit is recomputed from (the cadence). */
	readonly windowMs: number;
	/** How often the no-load latency is measured again, by pinning the limit to `min` for one window. */
	readonly probeIntervalMs: number;
	/** Vegas's lower threshold: fewer requests estimated queued at the origin than this grows the limit. */
	readonly alpha: number;
	/** Vegas's upper threshold: more requests estimated queued at the origin than this shrinks the limit. */
	readonly beta: number;
	/** What a window with drops (origin 429/502/503/504, timeouts, resets) multiplies the limit by. */
	readonly backoff: number;
}

/** Defaults of the optional settings; `initial` defaults to `min`. docs/configuration.md mirrors these. */
export const ADAPTIVE_DEFAULTS = {
	/** Envoy's adaptive concurrency filter's default floor (min_concurrency): a probe at 1 would take thrice as long. */
	min: 3,
	windowMs: 250,
	probeIntervalMs: 60_000,
	/** TCP Vegas as Linux ships it (net/ipv4/tcp_vegas.c): alpha 2, beta 4 packets queued. */
	alpha: 2,
	beta: 4,
	/** Netflix concurrency-limits' AIMDLimit backs off by 0.9. */
	backoff: 0.9,
} as const;

/** Samples a window needs at the least (besides `windowMs`), so one lucky exchange does not move the limit. */
export const MIN_WINDOW_SAMPLES = 5;
