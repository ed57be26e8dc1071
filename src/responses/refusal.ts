// The gate's own answers: refusals (429, 503) and proxy failures, built in one place.

/** Seconds for Retry-After (RFC 9110 §10.2.3): a whole number, at least 1. */
export function retryAfterSeconds(ms: number): number {
	return Math.max(1, Math.ceil(ms / 1000));
}

/** No permit free: 429 Too Many Requests (RFC 6585 §4), the seed's body. */
export function tooManyRequests(retryAfterMs: number): Response {
	return new Response("Too many requests", {
		status: 429,
		headers: { "retry-after": String(retryAfterSeconds(retryAfterMs)), "content-type": "text/plain; charset=utf-8" },
	});
}

/** The gauge could not answer and the route fails closed: 503 (RFC 9110 §15.6.4). */
export function gaugeUnavailable(retryAfterMs: number): Response {
	return new Response("Service unavailable", {
		status: 503,
		headers: { "retry-after": String(retryAfterSeconds(retryAfterMs)), "content-type": "text/plain; charset=utf-8" },
	});
}

/** The origin failed (502, RFC 9110 §15.6.3) or missed its deadline (504, §15.6.5). */
export function badGateway(timedOut: boolean): Response {
	return new Response(timedOut ? "Gateway timeout" : "Bad gateway", {
		status: timedOut ? 504 : 502,
		headers: { "content-type": "text/plain; charset=utf-8" },
	});
}

/** A request that already passed through this gate: forwarding it again would loop (RFC 5842 §7.2). */
export function loopDetected(): Response {
	return new Response("Loop detected: the request already passed through pressure-gauge; set ORIGIN", {
		status: 508,
		headers: { "content-type": "text/plain; charset=utf-8" },
	});
}

export function configInvalid(): Response {
	return new Response("pressure-gauge: invalid configuration; see the Worker's logs or run `npm run check`", {
		status: 500,
		headers: { "content-type": "text/plain; charset=utf-8" },
	});
}
