// Holds a permit for a WebSocket's whole life: the Worker relays the socket, renews the lease while it is
// open, and gives the permit back when either side closes it (docs/websockets.md).
import type { ReleaseReason, Renewable } from "../isolate/permit-types.ts";

/** A WebSocket opening handshake (RFC 6455 §4.1): a GET whose Upgrade header lists "websocket". */
export function isWebSocketUpgrade(request: Request): boolean {
	const upgrade = request.headers.get("upgrade");
	return request.method === "GET" && upgrade !== null && upgrade.split(",").some((p) => p.trim().toLowerCase() === "websocket");
}

/**
 * A signal for the opening handshake only: it follows `deadline` until `detach()`. Aborting a fetch's
 * signal after its 101 tears the origin's socket down (seen in workerd: the socket closes with 1006), so
 * an upgrade's fetch must not carry the exchange's deadline past the handshake.
 */
export function handshakeSignal(deadline: AbortSignal): { readonly signal: AbortSignal; detach(): void } {
	const handshake = new AbortController();
	const follow = (): void => handshake.abort(deadline.reason);
	if (deadline.aborted) follow();
	else deadline.addEventListener("abort", follow, { once: true });
	return { signal: handshake.signal, detach: () => deadline.removeEventListener("abort", follow) };
}

/**
 * Close codes (RFC 6455 §7.4) that cannot be sent in a close frame: they only report what happened
 * locally. 1005: no code was given; 1006: the connection dropped without a close frame; 1015: TLS failed.
 */
const LOCAL_ONLY_CODES = new Set([1005, 1006, 1015]);
/** 1001 Going Away (RFC 6455 §7.4.1): the client left. */
const CLIENT_WENT_AWAY = 1001;
/** 1014 Bad Gateway (IANA WebSocket close code registry): a gateway lost the upstream server. */
const ORIGIN_WENT_AWAY = 1014;
/** 1013 Try Again Later (IANA registry): the gate could not keep the permit the socket held. */
const PERMIT_LOST = 1013;

/** Closes a socket, never throwing: it may be closed already, or closing. */
function closeQuietly(socket: WebSocket, code?: number, reason?: string): void {
	try {
		if (code === undefined) socket.close();
		else socket.close(code, reason);
	} catch {
		// Already closed: nothing left to tell it.
	}
}

/** Tells `socket` that its peer closed with `event`: the same code and reason when they can be sent. */
function passClose(socket: WebSocket, event: CloseEvent, fallback: number): void {
	if (event.code === 1005) closeQuietly(socket);
	else if (LOCAL_ONLY_CODES.has(event.code)) closeQuietly(socket, fallback, "peer went away");
	else closeQuietly(socket, event.code, event.reason);
}

/**
 * The headers of the gate's 101: the origin's, minus those that describe the origin's connection. The runtime
 * writes the client's Sec-WebSocket-Accept and negotiates the client's extensions (permessage-deflate) itself.
 */
function upgradeHeaders(origin: Headers): Headers {
	const headers = new Headers(origin);
	for (const name of ["sec-websocket-accept", "sec-websocket-extensions"]) headers.delete(name);
	return headers;
}

/**
 * Relays the origin's accepted WebSocket (from `upgraded`, a 101) through a WebSocketPair, so the Worker
 * sees every close and error from either side, and holds `permits` until then; returns the client's 101.
 * - a close from either side is passed on to the other (code and reason kept where they can be sent), and
 *   the permits go back at once: no message crosses the relay after that;
 * - an error on either side closes both;
 * - while open, the leases are renewed (see keepLeases); a lease that cannot be kept closes the socket
 *   with 1013, since its permit may be someone else's by then.
 * If the isolate dies, nothing is renewed or released: the leases expire maxHoldMs after their last renewal.
 */
export function holdUntilClosed(upgraded: Response, permits: Renewable, maxHoldMs: number): Response {
	const origin = upgraded.webSocket;
	if (!origin) throw new TypeError("holdUntilClosed needs a 101 response with a webSocket");
	const { 0: client, 1: edge } = new WebSocketPair();
	for (const socket of [origin, edge]) {
		// Binary messages arrive as ArrayBuffers, which send() takes as they are (the standard default is Blob).
		socket.binaryType = "arraybuffer";
		socket.accept();
	}

	let stopRenewing: () => void = () => undefined;
	let ended = false;
	/** The first ending wins: close both sides (a no-op for one already closed), give the permits back. */
	const end = (reason: ReleaseReason, closeBoth: () => void): void => {
		if (ended) return;
		ended = true;
		stopRenewing();
		closeBoth();
		void permits.release(reason);
	};
	const clientGone = (): void =>
		end("client-dropped", () => {
			closeQuietly(origin, CLIENT_WENT_AWAY, "client went away");
			closeQuietly(edge);
		});
	const originGone = (): void =>
		end("origin-error", () => {
			closeQuietly(edge, ORIGIN_WENT_AWAY, "origin went away");
			closeQuietly(origin);
		});

	// Messages cross as they came: text as text, binary as binary.
	edge.addEventListener("message", (event) => send(origin, event.data, originGone));
	origin.addEventListener("message", (event) => send(edge, event.data, clientGone));
	// A close is answered on its own side (RFC 6455 §5.5.1: echo the code) and passed on to the other.
	edge.addEventListener("close", (event) =>
		end(event.code === 1006 ? "client-dropped" : "client-closed", () => {
			passClose(origin, event, CLIENT_WENT_AWAY);
			passClose(edge, event, CLIENT_WENT_AWAY);
		}),
	);
	origin.addEventListener("close", (event) =>
		end(event.code === 1006 ? "origin-error" : "origin-closed", () => {
			passClose(edge, event, ORIGIN_WENT_AWAY);
			passClose(origin, event, ORIGIN_WENT_AWAY);
		}),
	);
	edge.addEventListener("error", clientGone);
	origin.addEventListener("error", originGone);
	stopRenewing = keepLeases(permits, maxHoldMs, () =>
		end("lease-lost", () => {
			closeQuietly(edge, PERMIT_LOST, "the gate lost this connection's permit; reconnect later");
			closeQuietly(origin, CLIENT_WENT_AWAY, "the gate lost this connection's permit");
		}),
	);

	// The client's end: a 101 of the gate's own, since the origin's socket stays with the Worker.
	return new Response(null, { status: 101, headers: upgradeHeaders(upgraded.headers), webSocket: client });
}

/** Sends on `to`; a socket that can no longer take messages ends the relay. */
function send(to: WebSocket, data: string | ArrayBuffer, onFail: () => void): void {
	try {
		to.send(data);
	} catch {
		onFail();
	}
}

/**
 * Renews the leases a third of the way into their life, so that maxHoldMs never cuts an open socket, and
 * retries sooner when the Durable Object does not answer (or answers too late). Calls `lost` when a lease
 * is gone (released or expired: it is never revived) or would run out before the next attempt could
 * save it. Returns a function that stops renewing.
 */
export function keepLeases(permits: Renewable, maxHoldMs: number, lost: () => void): () => void {
	const renewEvery = maxHoldMs / 3;
	const retryEvery = renewEvery / 4;
	let timer: ReturnType<typeof setTimeout> | null = null;
	let stopped = false;
	const schedule = (delay: number): void => {
		timer = setTimeout(attempt, Math.max(0, delay));
	};
	async function attempt(): Promise<void> {
		let giveUp: ReturnType<typeof setTimeout> | null = null;
		const unanswered = new Promise<"unavailable">((resolve) => {
			giveUp = setTimeout(() => resolve("unavailable"), retryEvery);
		});
		const outcome = await Promise.race([permits.renew(), unanswered]);
		if (giveUp) clearTimeout(giveUp);
		if (stopped) return;
		const left = permits.expiresBy - Date.now();
		if (outcome === "lost" || (outcome === "unavailable" && left <= 2 * retryEvery)) {
			stopped = true;
			lost();
		} else schedule(outcome === "renewed" ? left - 2 * renewEvery : retryEvery);
	}
	if (Number.isFinite(permits.expiresBy)) schedule(permits.expiresBy - 2 * renewEvery - Date.now());
	return () => {
		stopped = true;
		if (timer) clearTimeout(timer);
	};
}
