import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Gauge } from "../src/object/durable-object.ts";
import type { Gate } from "./helpers/gate.ts";
import { eventually, expectInFlight, gate } from "./helpers/gate.ts";

/** Every wait on a socket ends by itself. */
const DEADLINE_MS = 3_000;

function upgrade(g: Gate, path = "/ws", headers: Record<string, string> = {}): Promise<Response> {
	return g.fetch(path, { headers: { upgrade: "websocket", ...headers } });
}

/** Upgrades and accepts the client's end; fails the test unless the gate answered 101. */
async function open(g: Gate, path = "/ws", headers: Record<string, string> = {}): Promise<WebSocket> {
	const res = await upgrade(g, path, headers);
	expect(res.status).toBe(101);
	const ws = res.webSocket;
	if (!ws) throw new Error("a 101 without a webSocket");
	ws.binaryType = "arraybuffer";
	ws.accept();
	return ws;
}

function deadline<T>(what: string, executor: (resolve: (value: T) => void, reject: (error: Error) => void) => void): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no ${what} within ${DEADLINE_MS} ms`)), DEADLINE_MS);
		executor(
			(value) => {
				clearTimeout(timer);
				resolve(value);
			},
			(error) => {
				clearTimeout(timer);
				reject(error);
			},
		);
	});
}

function nextMessage(ws: WebSocket): Promise<string | ArrayBuffer> {
	return deadline("message", (resolve, reject) => {
		ws.addEventListener("message", (e) => resolve(e.data), { once: true });
		ws.addEventListener("close", (e) => reject(new Error(`closed (${e.code}) while waiting for a message`)), { once: true });
	});
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
	return deadline("close", (resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }), { once: true }));
}

async function echoes(ws: WebSocket, text = "ping"): Promise<void> {
	ws.send(text);
	expect(await nextMessage(ws)).toBe(text);
}

const chat = (limit: number, extra: Record<string, unknown> = {}) => ({ routes: [{ name: "chat", path: "/ws", limit, ...extra }] });

describe("WebSockets on paths no route covers", () => {
	it("pass through untouched: the origin's 101 and socket, no permit", async () => {
		const g = gate({ routes: [{ name: "other", path: "/other", limit: 1 }] });
		const ws = await open(g);
		await echoes(ws);
		ws.close(1000, "done");
		expect((await g.status("other")).counters.admitted).toBe(0);
	});
});

describe('websocket = "hold" (the default): a permit for the socket\'s life', () => {
	it("counts open sockets against the limit, refuses the next with 429, admits again once one closes", async () => {
		const g = gate(chat(2));
		const [a, b] = [await open(g), await open(g)];
		await echoes(a);
		await echoes(b);
		await expectInFlight(g, "chat", 2);

		const refused = await upgrade(g);
		expect(refused.status).toBe(429);
		expect(refused.webSocket).toBeNull();
		expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

		a.close(1000, "client done");
		await eventually(() => expectInFlight(g, "chat", 1));
		const c = await open(g);
		await echoes(c);
		b.close(1000);
		c.close(1000);
		await eventually(() => expectInFlight(g, "chat", 0));
		const origin = await g.origin();
		expect(origin.peak).toBeLessThanOrEqual(2);
		await eventually(async () => expect((await g.origin()).inFlight).toBe(0));
	});

	it("passes the client's close code and reason to the origin, and gives the permit back", async () => {
		const g = gate(chat(1));
		const ws = await open(g);
		await echoes(ws);
		await expectInFlight(g, "chat", 1);
		ws.close(4001, "bye from client");
		await eventually(() => expectInFlight(g, "chat", 0));
		await eventually(async () => expect((await g.origin()).inFlight).toBe(0));
		const status = await g.status("chat");
		expect(status.counters).toMatchObject({ admitted: 1, released: 1, reaped: 0 });
	});

	it("passes an origin's close (code and reason) to the client, and gives the permit back", async () => {
		const g = gate(chat(1));
		const ws = await open(g);
		await expectInFlight(g, "chat", 1);
		const seen = closed(ws);
		ws.send("close:4002");
		expect(await seen).toEqual({ code: 4002, reason: "origin closed" });
		await eventually(() => expectInFlight(g, "chat", 0));
	});

	it("closes the client with 1014 when the origin vanishes without a close frame, and gives the permit back", async () => {
		const g = gate(chat(1));
		const ws = await open(g);
		const seen = closed(ws);
		ws.send("vanish");
		expect((await seen).code).toBe(1014);
		await eventually(() => expectInFlight(g, "chat", 0));
	});

	it("relays text as text and binary as binary, and keeps the subprotocol the origin chose", async () => {
		const g = gate(chat(1));
		const res = await upgrade(g, "/ws", { "sec-websocket-protocol": "chat.v2, chat.v1" });
		expect(res.headers.get("sec-websocket-protocol")).toBe("chat.v2");
		const ws = res.webSocket as WebSocket;
		ws.binaryType = "arraybuffer";
		ws.accept();
		await echoes(ws, "text");
		ws.send(new Uint8Array([1, 2, 3]));
		const binary = await nextMessage(ws);
		expect(binary).toBeInstanceOf(ArrayBuffer);
		expect([...new Uint8Array(binary as ArrayBuffer)]).toEqual([1, 2, 3]);
		ws.close(1000);
	});

	it("asks the origin for the upgrade with Via, as for any request", async () => {
		const g = gate(chat(1));
		const ws = await open(g);
		ws.send("headers");
		const headers = JSON.parse(String(await nextMessage(ws))) as Record<string, string>;
		expect(headers.upgrade).toBe("websocket");
		expect(headers.via).toBe("1.1 pressure-gauge");
		ws.close(1000);
	});

	it("gives the permit back when the origin refuses the upgrade", async () => {
		const g = gate({ routes: [{ name: "chat", path: "/*", limit: 1 }] });
		const res = await upgrade(g, "/not-a-socket");
		expect(res.status).toBe(404);
		await res.arrayBuffer();
		await g.settle();
		await expectInFlight(g, "chat", 0);
	});

	it("renews the lease while the socket is open: maxHoldMs does not cut it, originTimeoutMs neither", async () => {
		const g = gate(chat(1, { originTimeoutMs: 200, maxHoldMs: 1_300 }));
		const ws = await open(g);
		// Three lease lifetimes: without renewals, the lease would have been reaped twice over.
		await new Promise((r) => setTimeout(r, 3 * 1_300));
		await echoes(ws);
		const status = await g.status("chat");
		expect(status.inFlight).toBe(1);
		expect(status.counters.reaped).toBe(0);
		expect((await upgrade(g)).status).toBe(429);
		ws.close(1000);
		await eventually(() => expectInFlight(g, "chat", 0));
		// Hold times include the socket's life.
		expect((await g.status("chat")).holds.sumMs).toBeGreaterThanOrEqual(3 * 1_300);
	});

	it("closes the socket with 1013 when its lease expired anyway: a lease is never revived", async () => {
		const g = gate(chat(1, { originTimeoutMs: 200, maxHoldMs: 1_300 }));
		const ws = await open(g);
		const seen = closed(ws);
		// The object's clock jumps past the lease's expiry: the next renewal finds it reaped.
		await runInDurableObject(g.gauge("chat"), (instance: Gauge) => {
			const skew = 10_000;
			instance.clock = () => Date.now() + skew;
		});
		expect((await seen).code).toBe(1013);
		const status = await g.status("chat");
		expect(status.inFlight).toBe(0);
		expect(status.counters.reaped).toBe(1);
	});
});

describe('websocket = "handshake": a permit for the opening handshake only', () => {
	it("admits sockets beyond the limit once their handshakes are done", async () => {
		const g = gate(chat(1, { websocket: "handshake" }));
		const [a, b] = [await open(g), await open(g)];
		await echoes(a);
		await echoes(b);
		await g.settle();
		await expectInFlight(g, "chat", 0);
		expect((await g.status("chat")).counters.admitted).toBe(2);
		a.close(1000);
		b.close(1000);
	});
});

describe('websocket = "refuse"', () => {
	it("answers upgrades with 403, takes no permit and never reaches the origin; plain requests pass", async () => {
		const g = gate({ routes: [{ name: "chat", path: "/*", limit: 1, websocket: "refuse" }] });
		const res = await upgrade(g);
		expect(res.status).toBe(403);
		expect(res.webSocket).toBeNull();
		expect(res.headers.has("retry-after")).toBe(false);
		expect(await res.text()).toBe("WebSocket upgrades are not allowed on this route");
		expect((await g.status("chat")).counters.admitted).toBe(0);
		expect((await g.origin()).total).toBe(0);
		expect((await g.fetch("/request?delay=0")).status).toBe(200);
	});
});
