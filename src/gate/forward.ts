// Forwards a request to the origin as an HTTP proxy should (RFC 9110 §7.6), streaming both bodies.
import { isWebSocketUpgrade } from "../hold/websocket.ts";

/** The pseudonym this gate adds to Via (RFC 9110 §7.6.3), and looks for to detect a loop. */
export const VIA_PSEUDONYM = "pressure-gauge";

/** Connection-specific headers a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = [
	"connection",
	"keep-alive",
	"proxy-connection",
	"proxy-authenticate",
	"proxy-authorization",
	"te",
	"trailer",
	"transfer-encoding",
	"upgrade",
];

/** A copy of the headers without hop-by-hop ones, including any the Connection header names. */
export function endToEndHeaders(headers: Headers): Headers {
	const out = new Headers(headers);
	const named = (headers.get("connection") ?? "").split(",").map((h) => h.trim().toLowerCase());
	for (const name of [...HOP_BY_HOP, ...named]) if (name) out.delete(name);
	return out;
}

export function hasPassedThisGate(request: Request): boolean {
	const hops = request.headers.get("via")?.split(",") ?? [];
	return hops.some((hop) => hop.trim().split(/\s+/)[1] === VIA_PSEUDONYM);
}

/**
 * The origin's URL for a request: ORIGIN with `path` and the request's query, or, with no ORIGIN,
 * the request's own URL with `path` (on a zone route, Cloudflare sends that to the origin behind the zone).
 * `path` is the canonical path the route was matched on, so the origin serves what the gate counted;
 * the query is left as sent. The path is set as a path, never resolved as a relative URL, so
 * "//other.host/" cannot redirect it.
 */
export function upstreamUrl(requestUrl: string, origin: URL | null, path: string): URL {
	const incoming = new URL(requestUrl);
	const target = origin ? new URL(origin) : incoming;
	target.pathname = path;
	target.search = incoming.search;
	return target;
}

/** `path` defaults to the request's own (the benchmark's bare proxy); the gate passes the canonical one. */
export function upstreamRequest(request: Request, origin: URL | null, signal: AbortSignal, path = new URL(request.url).pathname): Request {
	const incoming = new URL(request.url);
	const headers = endToEndHeaders(request.headers);
	// Upgrade is hop-by-hop (RFC 9110 §7.8): a proxy that lets a WebSocket through asks its own next hop
	// for the upgrade, as nginx's `proxy_set_header Upgrade` does; the runtime adds `Connection: Upgrade`.
	if (isWebSocketUpgrade(request)) headers.set("upgrade", "websocket");
	headers.append("via", `1.1 ${VIA_PSEUDONYM}`);
	if (origin) {
		headers.set("x-forwarded-host", incoming.host);
		headers.set("x-forwarded-proto", incoming.protocol.slice(0, -1));
	}
	const hasBody = request.method !== "GET" && request.method !== "HEAD";
	return new Request(upstreamUrl(request.url, origin, path), {
		method: request.method,
		headers,
		body: hasBody ? request.body : null,
		redirect: "manual",
		signal,
	});
}

/**
 * The origin's response as the client should see it: same status and body, end-to-end headers only.
 * An accepted WebSocket (101) keeps the origin's socket, which the runtime then joins to the client's
 * without running any code per message.
 */
export function downstreamResponse(response: Response, body: ReadableStream | null = response.body): Response {
	return new Response(response.webSocket ? null : body, {
		status: response.status,
		statusText: response.statusText,
		headers: endToEndHeaders(response.headers),
		webSocket: response.webSocket,
	});
}
