// The benchmark's baseline: the same Hono proxy as the gate (src/gate/forward.ts), with no gate in front.
import { Hono } from "hono";
import { downstreamResponse, upstreamRequest } from "../../src/gate/forward.ts";

const app = new Hono<{ Bindings: { ORIGIN: string } }>();
app.all("*", async function bareProxy(c) {
	const response = await fetch(upstreamRequest(c.req.raw, new URL(c.env.ORIGIN), c.req.raw.signal));
	return downstreamResponse(response);
});

export default app;
