// The Worker's own failure after a permit was granted still gives the permit back.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { expect, it } from "vitest";
import { onWorkerError } from "../src/gate/app.ts";
import { holdPermit } from "../src/gate/hold-permit.ts";
import { loadConfig } from "../src/gate/load-config.ts";
import { matchRoute } from "../src/gate/match-route.ts";
import { normalizePath } from "../src/gate/normalize-path.ts";
import type { GateEnv } from "../src/gate/types.ts";

// Hono hands an Error to onError (the middleware sees c.error); anything else is rethrown through it.
it.each([
	["an Error", new Error("boom")],
	["a non-Error value", "boom"],
])("releases the permit when the handler after holdPermit throws %s", async (_, thrown) => {
	const app = new Hono<GateEnv>();
	app.use(loadConfig, normalizePath, matchRoute, holdPermit);
	app.all("*", () => {
		throw thrown;
	});
	app.onError(onWorkerError);

	const name = `worker-error-${crypto.randomUUID()}`;
	const gateEnv = { ...env, LIMITS: { routes: [{ name, path: "/*", limit: 1 }] } };
	for (let i = 0; i < 3; i++) {
		const ctx = createExecutionContext();
		// Every other attempt asks for JSON: the Worker's own 500 follows the same content negotiation as a 429.
		const accept = i % 2 === 0 ? "text/plain" : "application/json";
		// A non-Error throw is rethrown by Hono (the runtime then answers 500 itself): null here.
		const res = await Promise.resolve(app.fetch(new Request("http://gate.test/x", { headers: { accept } }), gateEnv, ctx)).catch(
			() => null,
		);
		await waitOnExecutionContext(ctx);
		// With a limit of 1, a leaked permit would turn the next attempt into a 429.
		expect(res?.status ?? 500).toBe(500);
		if (thrown instanceof Error) {
			expect(res?.headers.get("content-type")).toBe(i % 2 === 0 ? "text/plain; charset=utf-8" : "application/problem+json");
		}
	}
	expect((await env.GAUGE.getByName(`route:${name}`).status()).inFlight).toBe(0);
});
