import { describe, expect, it } from "vitest";
import { isAuthorized } from "../src/admin/auth.ts";
import { gate } from "./helpers/gate.ts";

const TOKEN = "s3cret-token";
const limits = { routes: [{ name: "r", path: "/*", limit: 3 }] };
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("admin surface", () => {
	it("is off (404) when no ADMIN_TOKEN is set, and never proxied", async () => {
		const g = gate(limits);
		const res = await g.fetch("/__gauge/status");
		expect(res.status).toBe(404);
		expect((await g.origin()).total).toBe(0);
	});

	it("answers 401 with a Bearer challenge to a missing or wrong token", async () => {
		const g = gate(limits, { ADMIN_TOKEN: TOKEN });
		for (const init of [{}, bearer("wrong"), bearer(`${TOKEN}x`), { headers: { authorization: TOKEN } }]) {
			const res = await g.fetch("/__gauge/status", init);
			expect(res.status).toBe(401);
			expect(res.headers.get("www-authenticate")).toBe('Bearer realm="pressure-gauge"');
		}
		expect((await g.origin()).total).toBe(0);
	});

	it("reports each route's limit, in-flight count and counters to the right token", async () => {
		const g = gate(limits, { ADMIN_TOKEN: TOKEN });
		const held = await g.fetch("/stream?chunks=3&interval=20");
		const res = await g.fetch("/__gauge/status", bearer(TOKEN));
		expect(res.status).toBe(200);
		const body = (await res.json()) as { routes: { name: string; limit: number; inFlight: number; counters: Record<string, number> }[] };
		expect(body.routes).toHaveLength(1);
		expect(body.routes[0]).toMatchObject({ limit: 3, inFlight: 1, counters: { admitted: 1, refused: 0 } });
		await held.arrayBuffer();
	});

	it("lives under ADMIN_PREFIX when it is set; the old prefix is proxied like any path", async () => {
		const g = gate(limits, { ADMIN_TOKEN: TOKEN, ADMIN_PREFIX: "/ops/gauge" });
		expect((await g.fetch("/ops/gauge/status", bearer(TOKEN))).status).toBe(200);
		const proxied = await g.fetch("/__gauge/status", bearer(TOKEN));
		expect(proxied.status).toBe(200);
		expect((await g.origin()).total).toBe(1);
	});
});

describe("isAuthorized", () => {
	it("accepts only the exact token after 'Bearer '", async () => {
		expect(await isAuthorized(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
		expect(await isAuthorized(`bearer ${TOKEN}`, TOKEN)).toBe(true);
		expect(await isAuthorized(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
		expect(await isAuthorized("Bearer ", TOKEN)).toBe(false);
		expect(await isAuthorized(undefined, TOKEN)).toBe(false);
		expect(await isAuthorized(`Basic ${TOKEN}`, TOKEN)).toBe(false);
	});
});
