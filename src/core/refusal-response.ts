// The default answer to a refusal: 429 or 503 with Retry-After and RateLimit fields, 403 for a refused upgrade,
// each as plain text or problem+json (RFC 9457) as the client's Accept prefers. A face's onRefused replaces it.
import type { Route } from "../config/parse.ts";
import { clientClosedRequest, gaugeUnavailable, tooManyRequests, upgradeRefused } from "../responses/refusal.ts";
import type { Refusal } from "./acquire.ts";

/** `route.rateLimitHeaders` "none" leaves the RateLimit fields out of a 429 (default: they are in). */
export function refusalResponse(
	refusal: Refusal,
	request: Request,
	route: Pick<Route, "rateLimitHeaders"> = { rateLimitHeaders: "refusals" },
): Response {
	const accept = request.headers.get("accept");
	switch (refusal.kind) {
		case "limited":
			return tooManyRequests({
				retryAfterMs: refusal.retryAfterMs,
				accept,
				route: refusal.route,
				scope: refusal.scope,
				views: refusal.views,
				withRateLimitHeaders: route.rateLimitHeaders !== "none",
			});
		case "unavailable":
			return gaugeUnavailable(refusal.retryAfterMs, accept);
		case "websocket-refused":
			return upgradeRefused(accept);
		case "cancelled":
			return clientClosedRequest();
	}
}
