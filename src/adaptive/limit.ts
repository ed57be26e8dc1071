// The interfaces of the adaptive limit: what the object feeds it (after Netflix concurrency-limits' `Limit`), and
// the one summary per window an algorithm decides on.

export interface Limit {
	/**
	 * One exchange: it started at `startTime` (ms on the caller's clock), its answer came `rtt` ms later, `inflight`
	 * permits were held when it ended, and it was dropped (overload, timeout, reset) or not. Returns the limit to
	 * apply from now on. Pure: no clock is read, no I/O is done.
	 */
	onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): number;
	/** The limit in force. */
	readonly limit: number;
}

/** One window of samples, summarised (see WindowedLimit). */
export interface WindowSample {
	/** When the window opened (the samples' clock). */
	readonly start: number;
	/** The median latency of the exchanges that started inside the window; NaN when every one was dropped. */
	readonly rtt: number;
	/** The most permits held at once. */
	readonly inflight: number;
	/**
	 * How many requests the origin itself was serving, on average (Little's law: answers per ms × latency). Lower
	 * than `inflight` by the permits held outside the origin: in the Worker, on object calls, delivering bodies.
	 */
	readonly concurrency: number;
	readonly didDrop: boolean;
}

/** An algorithm that decides once per window. */
export interface WindowLimit {
	onWindow(window: WindowSample): number;
	readonly limit: number;
}
