// One exchange with the origin as the adaptive limit sees it: the message a release carries to the route's object.

/**
 * How the exchange ended:
 * - "ok": any answer below 500 but 429;
 * - "overload": the origin said so, 429 (RFC 6585 §4) or 503 (RFC 9110 §15.6.4);
 * - "gateway": 502 or 504, something behind the origin failed or was too slow (RFC 9110 §15.6.3, §15.6.5);
 * - "error": any other 5xx, the origin's own failure (a bug is as likely at a limit of 1, so it is no signal);
 * - "timeout": the route's originTimeoutMs passed; "reset": the connection failed or the body broke off.
 */
export type Outcome = "ok" | "overload" | "gateway" | "error" | "timeout" | "reset";

export const OUTCOMES: readonly Outcome[] = ["ok", "overload", "gateway", "error", "timeout", "reset"];

export interface ExchangeSample {
	readonly outcome: Outcome;
	/** From the request to the origin to its response headers (or to the failure), in ms. */
	readonly rttMs: number;
	/** From the request to the origin to this release, in ms: when the exchange started, on any clock. */
	readonly ageMs: number;
}

export function outcomeOf(status: number): Outcome {
	if (status === 429 || status === 503) return "overload";
	if (status === 502 || status === 504) return "gateway";
	return status >= 500 ? "error" : "ok";
}

/** Outcomes that mean the origin (or what is behind it) has more than it can take: the algorithm backs off. */
export function isDrop(outcome: Outcome): boolean {
	return outcome === "overload" || outcome === "gateway" || outcome === "timeout" || outcome === "reset";
}
