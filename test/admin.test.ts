import { describe, expect, it } from "vitest";
import { keyObjectName } from "../src/core/partition.ts";
import { isAuthorized } from "../src/gate/admin/auth.ts";
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
		const held = await g.fetch("/stream?chunks=10&interval=50");
		const res = await g.fetch("/__gauge/status", bearer(TOKEN));
		expect(res.status).toBe(200);
		const body = (await res.json()) as { routes: unknown[] };
		expect(body.routes).toEqual([
			{
				name: g.routeNames()[0],
				limit: { configured: 3, effective: 3, override: null, adaptive: null },
				layout: { shares: [3], layouts: [{ total: 3, shards: 1 }] },
				inFlight: 1,
				queued: 0,
				counters: { admitted: 1, refused: 0, released: 0, reaped: 0, dryRunRefused: 0, queued: 0, shed: 0 },
				countersSince: expect.any(Number),
				holdEwmaMs: expect.any(Number),
				holds: { buckets: Array(14).fill(0), sumMs: 0, count: 0 },
				holdMs: { p50: null, p90: null, p99: null },
				busiestKeys: [],
				isolate: { gaugeErrors: 0, failOpen: 0, localRefusals: 0, keyRefusals: 0 },
				blocks: { held: 0, spare: 0, refusedWithSpares: 0 },
				fair: null,
				classes: null,
				queueMode: null,
			},
		]);
		await held.arrayBuffer();
	});

	it("lists the busiest keys of a route with per-key limits", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 10, perKey: { limit: 3, by: "header:x-user" } }] }, { ADMIN_TOKEN: TOKEN });
		const held = await Promise.all(
			["a", "a", "b"].map((user) => g.fetch("/stream?chunks=10&interval=50", { headers: { "x-user": user } })),
		);
		const { routes } = (await (await g.fetch("/__gauge/status", bearer(TOKEN))).json()) as {
			routes: { busiestKeys: { holder: string; inFlight: number }[] }[];
		};
		const route = g.routeNames()[0];
		expect(routes[0]?.busiestKeys).toEqual([
			{ holder: await keyObjectName(route ?? "", "a"), inFlight: 2 },
			{ holder: await keyObjectName(route ?? "", "b"), inFlight: 1 },
		]);
		await Promise.all(held.map((r) => r.arrayBuffer()));
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
