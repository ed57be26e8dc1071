// The same trivial handler twice in one Worker (one isolate, one runtime): /plain as it is, /gated behind the
// library's Hono middleware with a limit it never reaches (blocks on), so the ratio is what the middleware costs.
import { Hono } from "hono";
import { gauge } from "../../src/hono.ts";

export { Gauge } from "../../src/index.ts";

const app = new Hono();
const hello = (c: { text: (body: string) => Response }): Response => c.text("hello, world\n");
app.get("/plain", hello);
app.get("/gated", gauge({ name: "bench-middleware", limit: 10_000 }), hello);
app.all("*", (c) => c.text("ok"));

export default app;
