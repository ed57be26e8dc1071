// A 101 from a Hono handler follows the gauge's websocket setting: "hold" keeps the permit until the socket closes.
import { Hono } from "hono";
import { expect, it } from "vitest";
import { gauge } from "../../src/hono.ts";
import { drive, gaugeStatus, uniqueName } from "../helpers/library.ts";

/** A handler that answers the upgrade itself: an echo on its own end of a WebSocketPair. */
function echoHandler(): Response {
	const { 0: client, 1: server } = new WebSocketPair();
	server.accept();
	server.addEventListener("message", (e) => server.send(e.data));
	server.addEventListener("close", (e) => server.close(e.code, e.reason));
	return new Response(null, { status: 101, webSocket: client });
}

function message(ws: WebSocket): Promise<unknown> {
	return new Promise((resolve) => ws.addEventListener("message", (e) => resolve(e.data), { once: true }));
}

it('websocket "hold": the socket keeps its permit while open, and gives it back when it closes', async () => {
	const name = uniqueName("hono-ws");
	const app = new Hono();
	app.get("/ws", gauge({ name, limit: 1, websocket: "hold" }), echoHandler);
	const worker = drive((request, env, ctx) => app.fetch(request, env, ctx));

	const res = await worker.fetch("/ws", { headers: { upgrade: "websocket" } });
	expect(res.status).toBe(101);
	const ws = res.webSocket!;
	ws.accept();
	const echoed = message(ws);
	ws.send("ping");
	expect(await echoed).toBe("ping");
	expect((await gaugeStatus(name)).inFlight).toBe(1);
	expect((await worker.fetch("/ws", { headers: { upgrade: "websocket" } })).status).toBe(429);

	const closed = new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
	ws.close(1000, "done");
	await closed;
	for (let i = 0; i < 50 && (await gaugeStatus(name)).inFlight > 0; i++) await scheduler.wait(20);
	expect((await gaugeStatus(name)).inFlight).toBe(0);
	await worker.settle();
});
