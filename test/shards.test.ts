import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/parse.ts";
import { shareOf } from "../src/object/layout.ts";
import { eventually, gate } from "./helpers/gate.ts";

const TOKEN = "shards-token";
const auth = { authorization: `Bearer ${TOKEN}` };

describe("shares", () => {
	it("split a limit into shares that differ by at most one and add up to it", () => {
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 64 }), (limit, n) => {
				fc.pre(n <= limit);
				const shares = Array.from({ length: n }, (_, i) => shareOf(limit, n, i));
				expect(shares.reduce((a, b) => a + b, 0)).toBe(limit);
				expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
				expect(Math.min(...shares)).toBeGreaterThanOrEqual(1);
			}),
		);
	});

	it("rejects more shards than permits", () => {
		const result = parseConfig({ LIMITS: { routes: [{ name: "s", path: "/*", limit: 3, shards: 4 }] } });
		expect(result.ok ? [] : result.errors).toEqual([
			'LIMITS.routes[0] ("s").shards: got 4, expected at most limit = 3 (every shard holds at least one permit)',
		]);
	});
});

describe("a sharded route", () => {
	it("never admits more than the route's total, fills every shard, and gives every permit back", async () => {
		const g = gate({ routes: [{ name: "s", path: "/*", limit: 6, shards: 3 }] }, { ADMIN_TOKEN: TOKEN });
		const results = await Promise.all(Array.from({ length: 40 }, () => g.fetch("/request?delay=300")));
		const statuses = results.map((r) => r.status);
		expect(statuses.filter((s) => s === 200)).toHaveLength(6);
		expect(statuses.filter((s) => s === 429)).toHaveLength(34);
		await Promise.all(results.map((r) => r.arrayBuffer()));
		expect((await g.origin()).peak).toBe(6);
		const { routes } = (await (await g.fetch("/__gauge/status", { headers: auth })).json()) as {
			routes: { inFlight: number; limit: { effective: number }; counters: { admitted: number } }[];
		};
		expect(routes[0]).toMatchObject({ inFlight: 0, limit: { effective: 6 }, counters: { admitted: 6 } });
	});

	it("splits a runtime limit into the same shares", async () => {
		const g = gate({ routes: [{ name: "s", path: "/*", limit: 6, shards: 3 }] }, { ADMIN_TOKEN: TOKEN });
		const name = g.routeNames()[0];
		const res = await g.fetch(`/__gauge/routes/${name}/limit`, { method: "PUT", headers: auth, body: '{"limit": 9}' });
		expect(res.status).toBe(200);
		const results = await Promise.all(Array.from({ length: 40 }, () => g.fetch("/request?delay=300")));
		expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(9);
		await Promise.all(results.map((r) => r.arrayBuffer()));
		await eventually(async () => {
			const { routes } = (await (await g.fetch("/__gauge/status", { headers: auth })).json()) as { routes: { limit: unknown }[] };
			expect(routes[0]?.limit).toEqual({ configured: 6, effective: 9, override: 9, adaptive: null });
		});
		expect((await g.origin()).peak).toBeLessThanOrEqual(9);
	});
});
