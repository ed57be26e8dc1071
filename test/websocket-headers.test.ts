// hold-permit.ts sets `c.res = holdUntilClosed(c.res, …)`; Hono's `c.res` setter copies every header of the
// old response (the origin's 101) onto the new one, undoing upgradeHeaders(), which drops the origin's
// Sec-WebSocket-Accept / Sec-WebSocket-Extensions because they describe the origin's connection, not the client's.
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

describe("held WebSocket 101", () => {
	it("does not carry the origin's Sec-WebSocket-Accept", async () => {
		const g = gate({ routes: [{ name: "chat", path: "/ws", limit: 1 }] });
		const res = await g.fetch("/ws", { headers: { upgrade: "websocket" } });
		expect(res.status).toBe(101);
		const ws = res.webSocket as WebSocket;
		ws.accept();
		const headers = Object.fromEntries(res.headers);
		ws.close(1000);
		expect(headers).not.toHaveProperty("sec-websocket-accept");
	});
});
