// The Worker's own failure after a permit was granted still gives the permit back.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { expect, it } from "vitest";
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
	app.onError((_error, c) => c.text("Internal error", 500));

	const name = `worker-error-${crypto.randomUUID()}`;
	const gateEnv = { ...env, LIMITS: { routes: [{ name, path: "/*", limit: 1 }] } };
	for (let i = 0; i < 3; i++) {
		const ctx = createExecutionContext();
		const status = await Promise.resolve(app.fetch(new Request("http://gate.test/x"), gateEnv, ctx)).then(
			(res) => res.status,
			() => 500,
		);
		await waitOnExecutionContext(ctx);
		// With a limit of 1, a leaked permit would turn the next attempt into a 429.
		expect(status).toBe(500);
	}
	expect((await env.GAUGE.getByName(`route:${name}`).status()).inFlight).toBe(0);
});
