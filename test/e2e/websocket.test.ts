// WebSockets end to end: a real ws origin and ws clients on 127.0.0.1, through the gate on wrangler's local runtime.
// Ungated paths pass through; a gated route counts open sockets against its limit, and every permit comes back
// however the socket ends: closed by the client, by the origin, or dropped by the client without a close frame.
import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { LocalGate } from "../../dev/gate.ts";
import { startGate } from "../../dev/gate.ts";
import type { Origin } from "../../dev/origin.ts";
import { startOrigin, TAG_HEADER } from "../../dev/origin.ts";

/** Every client operation has this deadline; a stuck one fails its test instead of hanging it. */
const DEADLINE_MS = 5_000;
const SHORT_HOLD_MS = 1_500;

let origin: Origin;
let gate: LocalGate;

beforeAll(async () => {
	origin = await startOrigin();
	gate = await startGate({
		origin: origin.url,
		limits: {
			routes: [
				{ name: "chat", path: "/ws/chat", limit: 2 },
				// Leases far shorter than the sockets' lives: only renewals keep them.
				{ name: "short", path: "/ws/short", limit: 1, originTimeoutMs: 400, maxHoldMs: SHORT_HOLD_MS },
			],
		},
	});
});

afterAll(async () => {
	await gate?.close();
	await origin?.close();
});

function within<T>(what: string, promise: Promise<T>, ms = DEADLINE_MS): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
	});
	return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

type Opened = { kind: "open"; ws: WebSocket } | { kind: "refused"; status: number; retryAfter: string | undefined };

/** Opens a socket through the gate, or reports the status of a refused upgrade. */
function connect(path: string, tag: string): Promise<Opened> {
	const ws = new WebSocket(`${gate.url.replace(/^http/, "ws")}${path}`, { headers: { [TAG_HEADER]: tag }, handshakeTimeout: DEADLINE_MS });
	const opened = new Promise<Opened>((resolve, reject) => {
		ws.once("open", () => resolve({ kind: "open", ws }));
		ws.once("unexpected-response", (_req, res: IncomingMessage) => {
			resolve({ kind: "refused", status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] as string | undefined });
			res.resume();
			ws.terminate();
		});
		ws.once("error", reject);
	});
	return within(`upgrade ${path}`, opened);
}

async function open(path: string, tag: string): Promise<WebSocket> {
	const result = await connect(path, tag);
	if (result.kind !== "open") throw new Error(`expected 101 on ${path}, got ${result.status}`);
	return result.ws;
}

function echo(ws: WebSocket, text: string): Promise<string> {
	const answer = new Promise<string>((resolve) => ws.once("message", (data: Buffer) => resolve(data.toString())));
	ws.send(text);
	return within("echo", answer);
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
	if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 0, reason: "already closed" });
	return within(
		"close",
		new Promise((resolve) => ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }))),
	);
}

/** Polls until the route's count (and the origin's) reaches `n`; a permit that never comes back fails here. */
async function settlesTo(route: string, tag: string, n: number, ms = DEADLINE_MS): Promise<void> {
	const until = Date.now() + ms;
	for (;;) {
		const inFlight = await gate.inFlight(route);
		const atOrigin = origin.stats(tag).inFlight;
		if (inFlight === n && atOrigin === n) return;
		if (Date.now() > until) throw new Error(`${route}: ${inFlight} in flight at the gate, ${atOrigin} at the origin, expected ${n}`);
		await new Promise((r) => setTimeout(r, 25));
	}
}

describe("an ungated path", () => {
	it("passes the upgrade through: the echo works and no route counts it", async () => {
		const ws = await open("/ws/other", "ungated");
		expect(await echo(ws, "hello")).toBe("hello");
		expect(origin.stats("ungated").inFlight).toBe(1);
		ws.close(1000);
		await closed(ws);
		expect((await gate.status("chat")).counters.admitted).toBe(0);
	});
});

describe("a route with limit 2", () => {
	it("admits two sockets, refuses a third with 429 while they are open, admits it once one closes", async () => {
		const tag = "limit";
		const a = await open("/ws/chat", tag);
		const b = await open("/ws/chat", tag);
		expect(await echo(a, "a")).toBe("a");
		expect(await echo(b, "b")).toBe("b");
		expect(await gate.inFlight("chat")).toBe(2);

		const third = await connect("/ws/chat", tag);
		expect(third).toMatchObject({ kind: "refused", status: 429 });
		expect(Number(third.kind === "refused" ? third.retryAfter : 0)).toBeGreaterThanOrEqual(1);

		a.close(1000, "done");
		await closed(a);
		await settlesTo("chat", tag, 1);
		const c = await open("/ws/chat", tag);
		expect(await echo(c, "c")).toBe("c");
		expect(origin.stats(tag).peak).toBe(2);

		for (const ws of [b, c]) ws.close(1000);
		await Promise.all([closed(b), closed(c)]);
		await settlesTo("chat", tag, 0);
	});

	it("gives the permit back when the client closes, passing its code and reason through", async () => {
		const ws = await open("/ws/chat", "client-close");
		await settlesTo("chat", "client-close", 1);
		ws.close(4000, "client leaves");
		expect(await closed(ws)).toEqual({ code: 4000, reason: "client leaves" });
		await settlesTo("chat", "client-close", 0);
	});

	it("gives the permit back when the origin closes, and the client sees the origin's code", async () => {
		const ws = await open("/ws/chat", "origin-close");
		await settlesTo("chat", "origin-close", 1);
		const seen = closed(ws);
		ws.send("close:4001");
		expect(await seen).toEqual({ code: 4001, reason: "origin closed" });
		await settlesTo("chat", "origin-close", 0);
	});

	it("gives the permit back when the client vanishes without a close frame (its TCP connection destroyed)", async () => {
		const ws = await open("/ws/chat", "vanish");
		await settlesTo("chat", "vanish", 1);
		ws.terminate();
		await settlesTo("chat", "vanish", 0);
		// Given back by the gate, not by lease expiry.
		expect((await gate.status("chat")).counters.reaped).toBe(0);
	});

	it("gives the permit back when the client hangs up while the origin is still accepting the upgrade", async () => {
		const tag = "hang-up";
		const ws = new WebSocket(`${gate.url.replace(/^http/, "ws")}/ws/chat?delay=500`, { headers: { [TAG_HEADER]: tag } });
		const failed = within("abandoned upgrade", new Promise((resolve) => ws.once("error", resolve)));
		await new Promise((r) => setTimeout(r, 150));
		ws.terminate();
		await failed;
		// The origin accepts after 500 ms; the socket it opens is closed at once and its permit given back.
		const until = Date.now() + DEADLINE_MS;
		while (origin.stats(tag).total === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
		await settlesTo("chat", tag, 0);
		expect((await gate.status("chat")).counters.reaped).toBe(0);
	});

	it("gives the permit back when the origin drops the connection, and closes the client with 1014", async () => {
		const ws = await open("/ws/chat", "origin-vanish");
		await settlesTo("chat", "origin-vanish", 1);
		const seen = closed(ws);
		ws.send("vanish");
		expect((await seen).code).toBe(1014);
		await settlesTo("chat", "origin-vanish", 0);
	});
});

describe("a socket that outlives its lease", () => {
	it("stays open and counted past several maxHoldMs (renewed), and its permit expires once its isolate is gone", async () => {
		const tag = "renew";
		const ws = await open("/ws/short", tag);
		await new Promise((r) => setTimeout(r, 3 * SHORT_HOLD_MS));
		expect(await echo(ws, "still here")).toBe("still here");
		expect(await gate.status("short")).toMatchObject({ inFlight: 1, counters: { reaped: 0 } });
		expect(await connect("/ws/short", tag)).toMatchObject({ kind: "refused", status: 429 });

		// A deploy: the isolate relaying the socket dies without releasing anything.
		const seen = closed(ws);
		await within("reload", gate.reload(), 30_000);
		await seen;
		// Nothing gave the permit back: its lease expires maxHoldMs after the last renewal.
		await settlesTo("short", tag, 0, SHORT_HOLD_MS + DEADLINE_MS);
		expect((await gate.status("short")).counters.reaped).toBe(1);
		const next = await open("/ws/short", tag);
		next.close(1000);
		await closed(next);
	});
});
