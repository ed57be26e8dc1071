// RateLimit-Policy and RateLimit fields, as in draft-ietf-httpapi-ratelimit-headers-11 (§3, §4), with the
// "concurrent-requests" quota unit: a policy's quota is a number of requests in flight at once, not a rate.

/** One limit that applied to the request: the route's total, or its key's share. */
export interface LimitView {
	/** The policy's name, an sf-string (§3.1): route names and "<route>.per-key" need no escaping. */
	readonly policy: string;
	readonly limit: number;
	/** Permits still free after this request (0 when it was refused). */
	readonly remaining: number;
	/** On a refusal: seconds until a permit is likely free (the "t" parameter, §4.1). */
	readonly resetSeconds?: number;
}

/** `"request";q=10;qu="concurrent-requests"` (§3): the quota and its unit. */
export function formatPolicy(views: readonly LimitView[]): string {
	return views.map((v) => `"${v.policy}";q=${v.limit};qu="concurrent-requests"`).join(", ");
}

/** `"request";r=0;t=2` (§4): what remains of each policy's quota, and when it is likely to free up. */
export function formatRateLimit(views: readonly LimitView[]): string {
	return views
		.map((v) => `"${v.policy}";r=${Math.max(0, v.remaining)}${v.resetSeconds === undefined ? "" : `;t=${v.resetSeconds}`}`)
		.join(", ");
}

export function setRateLimitHeaders(headers: Headers, views: readonly LimitView[]): void {
	if (views.length === 0) return;
	headers.set("ratelimit-policy", formatPolicy(views));
	headers.set("ratelimit", formatRateLimit(views));
}
