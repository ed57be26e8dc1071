// A broken config proxies nothing (500), but the admin surface, guarded by its own secret, stays up to say why.
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

const TOKEN = "s3cret-token";
const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };
const broken = { routes: [{ name: "r", path: "/*", limt: 3 }] };

describe("admin surface while the config is invalid", () => {
	it("/status answers 200 with the config's errors, named by route, and no routes", async () => {
		const g = gate(broken, { ADMIN_TOKEN: TOKEN });
		const res = await g.fetch("/__gauge/status", bearer);
		expect(res.status).toBe(200);
		const body = (await res.json()) as { config: { valid: boolean; errors: string[] }; routes: unknown[] };
		const route = g.routeNames()[0];
		expect(body.config.valid).toBe(false);
		expect(body.config.errors).toEqual([
			`LIMITS.routes[0] ("${route}").limt: unknown setting, did you mean "limit"? (docs/configuration.md)`,
			`LIMITS.routes[0] ("${route}").limit: got nothing, expected an integer >= 1 (or adaptive = { min, max } to learn it)`,
		]);
		expect(body.routes).toEqual([]);
	});

	it("/metrics says pressuregauge_config_valid 0; the status page is served", async () => {
		const g = gate(broken, { ADMIN_TOKEN: TOKEN });
		const metrics = await g.fetch("/__gauge/metrics", bearer);
		expect(metrics.status).toBe(200);
		expect(await metrics.text()).toMatch(/^pressuregauge_config_valid 0$/m);
		const page = await g.fetch("/__gauge/");
		expect(page.status).toBe(200);
		expect(await page.text()).toContain(`id="config-errors"`);
	});

	it("still wants the token, and every other path still gets the 500, never the origin", async () => {
		const g = gate(broken, { ADMIN_TOKEN: TOKEN });
		expect((await g.fetch("/__gauge/status")).status).toBe(401);
		const proxied = await g.fetch("/anything");
		expect(proxied.status).toBe(500);
		expect(await proxied.text()).toContain("invalid configuration");
		expect((await g.fetch("/__gauge-not/status", bearer)).status).toBe(500);
		expect((await g.fetch("/__gauge/routes/r/limit", { method: "PUT", body: '{"limit":2}', ...bearer })).status).toBe(500);
		expect((await g.origin()).total).toBe(0);
	});

	it("without ADMIN_TOKEN, the admin paths get the 500 like any other", async () => {
		const g = gate(broken);
		expect((await g.fetch("/__gauge/status")).status).toBe(500);
	});

	it("with a valid config, /status and /metrics say so", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 3 }] }, { ADMIN_TOKEN: TOKEN });
		const body = (await (await g.fetch("/__gauge/status", bearer)).json()) as { config: { valid: boolean; errors: string[] } };
		expect(body.config).toEqual({ valid: true, errors: [] });
		expect(await (await g.fetch("/__gauge/metrics", bearer)).text()).toMatch(/^pressuregauge_config_valid 1$/m);
	});
});
