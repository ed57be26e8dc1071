// The gate's own answers: refusals (429, 503) and proxy failures, built in one place.
import type { LimitView } from "./ratelimit-headers.ts";
import { setRateLimitHeaders } from "./ratelimit-headers.ts";

/** Seconds for Retry-After (RFC 9110 §10.2.3): a whole number, at least 1. */
export function retryAfterSeconds(ms: number): number {
	return Math.max(1, Math.ceil(ms / 1000));
}

/** True when the client prefers a JSON answer (RFC 9457 §3 problem details) to plain text. */
export function wantsJson(accept: string | null): boolean {
	return accept !== null && /application\/(problem\+)?json/i.test(accept);
}

interface Answer {
	readonly status: number;
	/** The seed's plain-text body, and the problem's title. */
	readonly text: string;
	/** A plain-text body other than `text`, when the title alone would not say what to fix. */
	readonly plain?: string;
	readonly detail?: string;
	readonly accept?: string | null;
	readonly headers?: Record<string, string>;
	/** Extra members of the problem details object (RFC 9457 §3.2). */
	readonly extensions?: Record<string, unknown>;
}

function answer({ status, text, plain = text, detail, accept = null, headers = {}, extensions = {} }: Answer): Response {
	const h = new Headers(headers);
	// Plain bytes, whatever the Accept-Encoding the Worker sees: the edge (and miniflare's imitation of it) rewrites
	// every request's to "br, gzip", so a relayed answer (the loop's 508 under `wrangler dev`) came to a client that
	// asked for no encoding in brotli. "identity" (no coding, RFC 9110 §12.5.3) is a coding the runtime leaves alone;
	// these bodies are a few dozen bytes, nothing to gain by compressing them.
	h.set("content-encoding", "identity");
	if (wantsJson(accept)) {
		// "about:blank": the status code says it all (RFC 9457 §4.2.1); the title is its phrase.
		h.set("content-type", "application/problem+json");
		return new Response(JSON.stringify({ type: "about:blank", title: text, status, ...(detail ? { detail } : {}), ...extensions }), {
			status,
			headers: h,
		});
	}
	h.set("content-type", "text/plain; charset=utf-8");
	return new Response(plain, { status, headers: h });
}

export interface Refusal {
	readonly retryAfterMs: number;
	/** The Accept header of the refused request. */
	readonly accept: string | null;
	readonly route: string;
	/** Which limit refused: the route's total, or the share of the request's key (perKey). */
	readonly scope: "route" | "key" | "class";
	/** Every limit that applied; the one that refused has remaining 0. */
	readonly views: readonly LimitView[];
	readonly withRateLimitHeaders: boolean;
}

/** No permit free: 429 Too Many Requests (RFC 6585 §4), the seed's body, Retry-After and RateLimit fields. */
export function tooManyRequests(refusal: Refusal): Response {
	const seconds = retryAfterSeconds(refusal.retryAfterMs);
	const res = answer({
		status: 429,
		text: "Too many requests",
		detail:
			refusal.scope === "key"
				? `This client's share of route "${refusal.route}" is in use (perKey); retry after ${seconds} s.`
				: refusal.scope === "class"
					? `The permits of route "${refusal.route}" this request's priority class may use are in use (classes); retry after ${seconds} s.`
					: `Every permit of route "${refusal.route}" is in use; retry after ${seconds} s.`,
		accept: refusal.accept,
		headers: { "retry-after": String(seconds) },
		extensions: { route: refusal.route, scope: refusal.scope, retryAfter: seconds },
	});
	if (refusal.withRateLimitHeaders) setRateLimitHeaders(res.headers, refusal.views);
	return res;
}

/** The gauge could not answer and the route fails closed: 503 (RFC 9110 §15.6.4). */
export function gaugeUnavailable(retryAfterMs: number, accept: string | null = null): Response {
	const seconds = retryAfterSeconds(retryAfterMs);
	return answer({
		status: 503,
		text: "Service unavailable",
		detail: "The gate could not reach its permit counter and fails closed.",
		accept,
		headers: { "retry-after": String(seconds) },
	});
}

/** The origin failed (502, RFC 9110 §15.6.3) or missed its deadline (504, §15.6.5). */
export function badGateway(timedOut: boolean, accept: string | null = null): Response {
	return answer({ status: timedOut ? 504 : 502, text: timedOut ? "Gateway timeout" : "Bad gateway", accept });
}

/** A request the gate will not forward as sent, e.g. a path with no safe canonical form: 400 (RFC 9110 §15.5.1). */
export function badRequest(detail: string, accept: string | null = null): Response {
	return answer({ status: 400, text: "Bad request", plain: `Bad request: ${detail}`, detail, accept });
}

/**
 * A WebSocket upgrade on a route set to `websocket = "refuse"`: 403, as RFC 6455 §4.2.2 suggests for a server
 * that does not accept the connection. Not 426 (that asks the client to switch to another protocol) and not
 * 429 (waiting would not help), so no Retry-After.
 */
export function upgradeRefused(accept: string | null = null): Response {
	return answer({
		status: 403,
		text: "WebSocket upgrades are not allowed on this route",
		detail: 'The route is configured with websocket = "refuse".',
		accept,
	});
}

/** A request that already passed through this gate: forwarding it again would loop (RFC 5842 §7.2). */
export function loopDetected(accept: string | null = null): Response {
	return answer({ status: 508, text: "Loop detected: the request already passed through pressure-gauge; set ORIGIN", accept });
}

export function configInvalid(accept: string | null = null): Response {
	return answer({ status: 500, text: "pressure-gauge: invalid configuration; see the Worker's logs or run `npm run check`", accept });
}

/** The Worker itself failed (a bug): 500 (RFC 9110 §15.6.1), details only in the logs. */
export function internalError(accept: string | null = null): Response {
	return answer({ status: 500, text: "Internal error", accept });
}

/**
 * The client went away before the gate asked for (all) its permits: nobody reads this answer. 499 is nginx's
 * "client closed request", not a registered status; it shows in logs and tests what happened.
 */
export function clientClosedRequest(): Response {
	return answer({ status: 499, text: "Client closed request" });
}
