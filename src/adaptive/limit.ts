// The interface every adaptive-limit algorithm implements, after Netflix concurrency-limits' `Limit`.

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
