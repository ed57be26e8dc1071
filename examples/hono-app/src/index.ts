// A Hono app with a global concurrency limit on two handlers: at most 10 searches at once, and at most 50 checkouts
// at once with 2 per user. Refused requests get a 429 with Retry-After at once.
import { Hono } from "hono";
import { gauge } from "pressure-gauge/hono";

export { Gauge } from "pressure-gauge";

const app = new Hono<{ Bindings: Env }>();

app.get("/search", gauge({ name: "search", limit: 10 }), async (c) => {
	await scheduler.wait(Number(c.req.query("ms") ?? 100)); // stands in for the expensive call
	return c.json({ results: [] });
});

const perUser = gauge({ name: "checkout", limit: 50, perKey: { limit: 2, by: (c) => c.req.header("x-user-id") } });
app.post("/checkout", perUser, async (c) => {
	await scheduler.wait(Number(c.req.query("ms") ?? 100));
	return c.json({ ok: true });
});

export default app;
