// A loopback origin for the demo, the tests and the benchmark: slow, failing or streaming on request,
// and counting how many requests it serves at once. Never deployed: wrangler ships only src/.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { WebSocket, WebSocketServer } from "ws";

/**
 * ws, loaded through Node's own resolution when an origin starts: the in-workerd tests import this file
 * (for TAG_HEADER) and their global setup imports it with the Workers project's resolve conditions, which
 * pick ws's "browser" entry (a stub that throws).
 */
function webSocketServer(): WebSocketServer {
	const ws = createRequire(import.meta.url)("ws") as typeof import("ws");
	return new ws.WebSocketServer({ noServer: true, handleProtocols: (offered) => offered.values().next().value ?? false });
}

import type { Capacity, CapacityState } from "./capacity.ts";
import { WorkerPool } from "./capacity.ts";

export interface OriginOptions {
	/** Delay before the default response, in ms. The seed's handler sleeps 2 s. Default 0. */
	delayMs?: number;
	/** Default 0: any free port. */
	port?: number;
	/** Capacity mode: the default path is served by a pool of workers (dev/capacity.ts). Default off. */
	capacity?: Capacity;
	/**
	 * Answer the default path with a Content-Length, as Go and nginx do for a body they have whole (the benchmark's
	 * common case). Default false: chunked, so tests exercise the gate's streaming hold.
	 */
	contentLength?: boolean;
}

export interface OriginStats {
	/** Requests being served right now (from arrival until the response is finished or aborted). */
	inFlight: number;
	/** The most ever served at once since the last reset. */
	peak: number;
	/** Requests seen since the last reset (stats requests excluded). An open WebSocket counts as one request in flight. */
	total: number;
	/** Requests whose connection closed before the response finished. */
	aborted: number;
	/**
	 * Handlers running right now, from arrival until the handler is done, whether or not its connection is
	 * still open: the default handler sleeps its delay regardless, like the seed's Go handler.
	 */
	handlers: number;
	/** The most handlers ever running at once since the last reset: the origin's real concurrency. */
	handlersPeak: number;
	/** Request-milliseconds served since the last reset (the integral of inFlight over time), up to `changedAt`. */
	busyMs: number;
	/** When the counters were last reset, and when inFlight last changed (epoch ms). */
	since: number;
	changedAt: number;
}

/** The origin's mean concurrency (requests in flight, averaged over time) since the counters' last reset. */
export function meanConcurrency(stats: OriginStats, now = Date.now()): number {
	const busy = stats.busyMs + stats.inFlight * (now - stats.changedAt);
	return busy / Math.max(1, now - stats.since);
}

export interface Origin {
	readonly url: string;
	/** Counters for requests carrying `x-origin-tag: <tag>` (or a list naming it; tests side by side keep apart), or all. */
	stats(tag?: string): OriginStats;
	reset(): void;
	/** Changes the capacity while it runs (turns capacity mode on if it was off); null turns it off. */
	setCapacity(change: Partial<Capacity> | null): void;
	/** The capacity and how many requests are worked on and waiting, or null when off. */
	capacity(): CapacityState | null;
	close(): Promise<void>;
}

/** The header that files a request under a tag's counters. */
export const TAG_HEADER = "x-origin-tag";

/** Every response (but /__stats) carries the request target the origin received, path and query as sent. */
export const SEEN_URL_HEADER = "x-origin-saw-url";

const fresh = (): OriginStats => {
	const now = Date.now();
	return { inFlight: 0, peak: 0, total: 0, aborted: 0, handlers: 0, handlersPeak: 0, busyMs: 0, since: now, changedAt: now };
};

/** Moves inFlight by `delta`, adding the time at the old value to busyMs. */
function moveInFlight(stats: OriginStats, delta: number): void {
	const now = Date.now();
	stats.busyMs += stats.inFlight * (now - stats.changedAt);
	stats.changedAt = now;
	stats.inFlight += delta;
}

/**
 * Starts the origin on 127.0.0.1. Every answer carries SEEN_URL_HEADER. Paths (query parameters in brackets):
 * - `/__stats` [tag]: the counters as JSON (DELETE resets them)
 * - `/hang`: never answers
 * - `/reset`: destroys the connection without answering
 * - `/status/:code`
 * - `/echo`: the method, URL, headers and body it received, as JSON
 * - `/stream` [chunks=10, interval=50, size=16]: a body sent slowly in chunks
 * - `/bytes` [size=1024]: a body of that many bytes
 * - `/ws`, `/ws/*` [delay=0]: a WebSocket echo endpoint (see echoSocket), accepting after the delay;
 *   anything else refuses an upgrade with 404
 * - `/__capacity` [workers, workMs, errorShare]: GET the capacity as JSON; PUT/POST changes it (PUT `?off` ends it)
 * - anything else [delay=delayMs]: "done" after the delay, as in the seed; the handler sleeps the whole
 *   delay even when the client has gone (counted in `handlers`), as the seed's Go handler does; in capacity
 *   mode, "done" after waiting for a worker and working workMs (or 503 at once for the shed share)
 */
export async function startOrigin(options: OriginOptions = {}): Promise<Origin> {
	const all = fresh();
	const byTag = new Map<string, OriginStats>();
	const statsFor = (tag: string | undefined): OriginStats => {
		if (tag === undefined) return all;
		const stats = byTag.get(tag) ?? fresh();
		byTag.set(tag, stats);
		return stats;
	};
	const reset = (): void => {
		const now = Date.now();
		Object.assign(all, { peak: all.inFlight, total: 0, aborted: 0, handlersPeak: all.handlers, busyMs: 0, since: now, changedAt: now });
		byTag.clear();
	};
	let pool = options.capacity ? new WorkerPool(options.capacity) : null;
	const setCapacity = (change: Partial<Capacity> | null): void => {
		if (change === null) pool = null;
		else if (pool) pool.set(change);
		else pool = new WorkerPool({ workers: 1, workMs: 100, ...change });
	};
	const server: Server = createServer((req, res) => {
		const url = new URL(req.url ?? "/", "http://origin");
		if (url.pathname === "/__capacity") {
			if (req.method === "PUT" || req.method === "POST") setCapacity(url.searchParams.has("off") ? null : capacityParams(url));
			res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(pool?.state() ?? null));
			return;
		}
		if (url.pathname === "/__stats") {
			if (req.method === "DELETE") reset();
			const stats = statsFor(url.searchParams.get("tag") ?? undefined);
			res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
			return;
		}
		res.setHeader(SEEN_URL_HEADER, req.url ?? "");
		const counted = count(req);
		res.on("close", () => counted.closed(!res.writableFinished));
		void respond(req, res, url, options.delayMs ?? 0, pool, options.contentLength ?? false).finally(counted.handled);
	});
	/** Counts a request (or a socket) in flight and its handler running; the functions returned count them out. */
	const count = (req: IncomingMessage): { closed(aborted: boolean): void; handled(): void } => {
		// Several tags, comma-separated, file a request under each (a test's total and, say, one key's share).
		const tags = req.headers[TAG_HEADER];
		const counters = [all, ...(typeof tags === "string" ? tags.split(",").map((t) => statsFor(t.trim())) : [])];
		for (const stats of counters) {
			stats.total++;
			moveInFlight(stats, 1);
			stats.peak = Math.max(stats.peak, stats.inFlight);
			stats.handlers++;
			stats.handlersPeak = Math.max(stats.handlersPeak, stats.handlers);
		}
		return {
			closed: (aborted) => {
				for (const stats of counters) {
					moveInFlight(stats, -1);
					if (aborted) stats.aborted++;
				}
			},
			handled: () => {
				for (const stats of counters) stats.handlers--;
			},
		};
	};
	const sockets = webSocketServer();
	server.on("upgrade", (req: IncomingMessage, socket, head) => {
		const url = new URL(req.url ?? "/", "http://origin");
		if (url.pathname !== "/ws" && !url.pathname.startsWith("/ws/")) {
			socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
			return;
		}
		const delay = Number(url.searchParams.get("delay") ?? 0);
		const accept = (): void =>
			sockets.handleUpgrade(req, socket, head, (ws) => {
				const counted = count(req);
				// A socket that ends without a close frame from either side counts as aborted.
				ws.on("close", (code) => {
					counted.closed(code === 1006);
					counted.handled();
				});
				echoSocket(ws, req);
			});
		if (delay > 0) setTimeout(accept, delay);
		else accept();
	});
	server.keepAliveTimeout = 60_000;
	await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		stats: (tag) => ({ ...statsFor(tag) }),
		reset,
		setCapacity,
		capacity: () => pool?.state() ?? null,
		close: () =>
			new Promise<void>((resolve) => {
				for (const ws of sockets.clients) ws.terminate();
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

/** The capacity settings present in the query. */
function capacityParams(url: URL): Partial<Capacity> {
	const change: Partial<Capacity> = {};
	for (const key of ["workers", "workMs", "errorShare"] as const) {
		const value = url.searchParams.get(key);
		if (value !== null && Number.isFinite(Number(value))) change[key] = Number(value);
	}
	return change;
}

async function respond(
	req: IncomingMessage,
	res: ServerResponse,
	url: URL,
	delayMs: number,
	pool: WorkerPool | null,
	contentLength: boolean,
): Promise<void> {
	const param = (name: string, fallback: number): number => Number(url.searchParams.get(name) ?? fallback);
	const body = await readBody(req);
	if (url.pathname === "/hang") return;
	if (url.pathname === "/reset") {
		req.socket.destroy();
		return;
	}
	const status = /^\/status\/(\d{3})$/.exec(url.pathname);
	if (status) {
		res.writeHead(Number(status[1])).end();
		return;
	}
	if (url.pathname === "/echo") {
		const echo = { method: req.method, url: req.url, headers: req.headers, body: body.toString("utf8") };
		res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(echo));
		return;
	}
	if (url.pathname === "/stream") {
		res.writeHead(200, { "content-type": "application/octet-stream" });
		const chunk = Buffer.alloc(param("size", 16), 120);
		for (let i = 0; i < param("chunks", 10) && !res.destroyed; i++) {
			res.write(chunk);
			await sleep(param("interval", 50));
		}
		res.end();
		return;
	}
	if (url.pathname === "/bytes") {
		// With its length, as most origins send a body they have whole (Go, nginx), unlike the chunked defaults here.
		const bytes = Buffer.alloc(param("size", 1024), 120);
		res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.byteLength }).end(bytes);
		return;
	}
	if (pool) {
		if (pool.shed()) res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end("overloaded");
		else if (await pool.work(() => res.destroyed)) res.writeHead(200, { "content-type": "text/plain" }).end("done");
		return;
	}
	await sleep(param("delay", delayMs));
	if (res.destroyed) return;
	if (contentLength) res.writeHead(200, { "content-type": "text/plain", "content-length": 4 }).end("done");
	else res.writeHead(200, { "content-type": "text/plain" }).end("done");
}

/**
 * Echoes every message back as it came (text as text, binary as binary), except these text commands:
 * - `headers`: answers with the upgrade request's headers as JSON
 * - `close:<code>`: the origin closes the socket with that code (a clean close from the origin's side)
 * - `vanish`: the origin drops the TCP connection without a close frame
 */
function echoSocket(ws: WebSocket, req: IncomingMessage): void {
	ws.on("message", (data, isBinary) => {
		const text = isBinary ? null : data.toString();
		if (text === "headers") ws.send(JSON.stringify(req.headers));
		else if (text?.startsWith("close:")) ws.close(Number(text.slice(6)), "origin closed");
		else if (text === "vanish") ws.terminate();
		else ws.send(data, { binary: isBinary });
	});
}

function readBody(req: IncomingMessage): Promise<Buffer> {
	return new Promise((resolve) => {
		const chunks: Buffer[] = [];
		req.on("data", (c: Buffer) => chunks.push(c));
		req.on("end", () => resolve(Buffer.concat(chunks)));
		req.on("error", () => resolve(Buffer.concat(chunks)));
	});
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
