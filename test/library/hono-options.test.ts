// The middleware's options: a key function, onRefused, a binding function, and bad options refused when built.
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { gauge } from "../../src/hono.ts";
import { drive, uniqueName } from "../helpers/library.ts";

/** Two requests at once: the first holds its permit until `release()`. */
function holding() {
	let release = (): void => undefined;
	const held = new Promise<void>((resolve) => {
		release = resolve;
	});
	return { held, release };
}

describe("gauge() options", () => {
	it("perKey with a key function: one request per user at once, other users unaffected", async () => {
		const gate = holding();
		const app = new Hono();
		app.get("/x", gauge({ name: uniqueName("key-fn"), limit: 10, perKey: { limit: 1, by: (c) => c.req.query("user") } }), async (c) => {
			await gate.held;
			return c.text("ok");
		});
		const worker = drive((request, env, ctx) => app.fetch(request, env, ctx));
		const first = worker.fetch("/x?user=ann");
		await scheduler.wait(50);
		const again = await worker.fetch("/x?user=ann", { headers: { accept: "application/json" } });
		expect(again.status).toBe(429);
		expect(await again.json()).toMatchObject({ status: 429 });
		const other = worker.fetch("/x?user=bob");
		gate.release();
		expect((await first).status).toBe(200);
		expect((await other).status).toBe(200);
		await worker.settle();
	});

	it("onRefused shapes the refusal, with the refusal as a value", async () => {
		const gate = holding();
		const app = new Hono();
		const seen: string[] = [];
		const limited = gauge({
			name: uniqueName("on-refused"),
			limit: 1,
			onRefused: (refusal, c) => {
				seen.push(refusal.kind === "limited" ? `${refusal.scope}:${refusal.retryAfterMs >= 0}` : refusal.kind);
				return c.json({ busy: true }, 503);
			},
		});
		app.get("/x", limited, async (c) => {
			await gate.held;
			return c.text("ok");
		});
		const worker = drive((request, env, ctx) => app.fetch(request, env, ctx));
		const first = worker.fetch("/x");
		await scheduler.wait(50);
		const refused = await worker.fetch("/x");
		expect(refused.status).toBe(503);
		expect(await refused.json()).toEqual({ busy: true });
		expect(seen).toEqual(["route:true"]);
		gate.release();
		expect((await first).status).toBe(200);
		await worker.settle();
	});

	it("binding: a function of the context picks the namespace", async () => {
		const app = new Hono<{ Bindings: { OTHER: typeof env.GAUGE } }>();
		app.get("/x", gauge({ name: uniqueName("binding"), limit: 1, binding: (c) => c.env.OTHER }), (c) => c.text("ok"));
		// No ExecutionContext at all, as app.request() in a test: the middleware still admits and releases.
		const res = await app.request("/x", {}, { OTHER: env.GAUGE });
		expect(res.status).toBe(200);
		expect(await res.text()).toBe("ok");
	});

	it("a missing binding is an error that says what to bind", async () => {
		const app = new Hono();
		app.get("/x", gauge({ name: uniqueName("no-binding"), limit: 1 }), (c) => c.text("ok"));
		let error: unknown;
		app.onError((e) => {
			error = e;
			return new Response(null, { status: 500 });
		});
		await app.fetch(new Request("http://app.test/x"), {}, { waitUntil: () => undefined } as unknown as ExecutionContext);
		expect(String(error)).toMatch(/env\.GAUGE is undefined; bind the Gauge class/);
	});

	it("bad options throw when the middleware is built, every problem named with its value and what was expected", () => {
		const build = (options: unknown) => () => gauge(options as Parameters<typeof gauge>[0]);
		expect(build({ name: "x", limit: 0 })).toThrow("pressure-gauge: gauge() got invalid options");
		expect(build({ name: "x", limit: 0 })).toThrow("options.limit: got 0, expected an integer >= 1");
		expect(build({ name: "x" })).toThrow("options.limit: got nothing, expected an integer >= 1 (or adaptive = { min, max } to learn it)");
		expect(build({ name: "x", limit: 5, handlerTimeoutMs: 10_000, maxHoldMs: 10_500 })).toThrow(
			"options.maxHoldMs: got 10500, expected at least handlerTimeoutMs + 1000 = 11000",
		);
		expect(build({ name: "x", limit: 5, path: "/x" })).toThrow("options.path: not a setting of a handler's gauge");
		expect(build({ name: "x", limit: 5, originTimeoutMs: 5 })).toThrow("expected handlerTimeoutMs");
		expect(build({ name: "x", limit: 5, onRefused: 429 })).toThrow("options.onRefused: got number, expected a function");
		expect(build({ name: "x", limit: 5, perKey: { limit: 1, by: "headers:x" } })).toThrow(
			'options.perKey.by: got "headers:x", expected "ip", "header:<name>" or "cookie:<name>"',
		);
		// Every problem at once, not the first one.
		expect(build({ name: "bad name", limit: -1, queue: { size: 0 } })).toThrow(/options\.name: .*\n.*options\.limit: .*\n/s);
	});
});
