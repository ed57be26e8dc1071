import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keyObjectName, MISSING_KEY } from "../src/core/partition.ts";
import { eventually, gate } from "./helpers/gate.ts";

const perKeyLimits = (by: string, extra: Record<string, unknown> = {}) => ({
	routes: [{ name: "k", path: "/*", limit: 3, perKey: { limit: 1, by, ...extra } }],
});

/** Holds a permit with a slow streaming body until `done` is called. */
async function hold(g: ReturnType<typeof gate>, headers: Record<string, string>) {
	const res = await g.fetch("/stream?chunks=10&interval=50", { headers });
	return { status: res.status, done: () => res.arrayBuffer() };
}

async function keyStatus(route: string, key: string) {
	return env.GAUGE.getByName(await keyObjectName(route, key)).status();
}

describe("per-key partitions stacked on the route's total", () => {
	it("limits each client IP (CF-Connecting-IP) to its share, and never trusts X-Forwarded-For", async () => {
		const g = gate(perKeyLimits("ip"));
		const first = await hold(g, { "cf-connecting-ip": "203.0.113.7" });
		expect(first.status).toBe(200);
		// Same client, a spoofed X-Forwarded-For: still the same partition.
		const spoofed = await g.fetch("/request?delay=0", {
			headers: { "cf-connecting-ip": "203.0.113.7", "x-forwarded-for": "198.51.100.1" },
		});
		expect(spoofed.status).toBe(429);
		expect(spoofed.headers.get("ratelimit")).toContain(`"${g.routeNames()[0]}.per-key";r=0`);
		const other = await g.fetch("/request?delay=0", { headers: { "cf-connecting-ip": "203.0.113.8" } });
		expect(other.status).toBe(200);
		await other.arrayBuffer();
		await first.done();
	});

	it("a request must pass both limits: distinct keys stop at the route's total, and a refused key's permit comes back", async () => {
		const g = gate(perKeyLimits("header:x-api-key"));
		const held = await Promise.all(["a", "b", "c"].map((key) => hold(g, { "x-api-key": key })));
		expect(held.map((h) => h.status)).toEqual([200, 200, 200]);
		const fourth = await g.fetch("/request?delay=0", { headers: { "x-api-key": "d" } });
		expect(fourth.status).toBe(429);
		// Key "d" passed its own limit, then the route refused: its key permit was given back.
		await g.settle();
		expect((await keyStatus(g.routeNames()[0] ?? "", "d")).inFlight).toBe(0);
		await Promise.all(held.map((h) => h.done()));
		await eventually(async () => expect((await g.status("k")).inFlight).toBe(0));
	});

	it("reads a cookie as the key", async () => {
		const g = gate(perKeyLimits("cookie:session"));
		const first = await hold(g, { cookie: "theme=dark; session=abc" });
		expect((await g.fetch("/request?delay=0", { headers: { cookie: "session=abc" } })).status).toBe(429);
		const other = await g.fetch("/request?delay=0", { headers: { cookie: "session=xyz" } });
		expect(other.status).toBe(200);
		await other.arrayBuffer();
		await first.done();
	});

	it("puts keyless requests in one shared partition by default, so dropping the key does not escape the limit", async () => {
		const g = gate(perKeyLimits("header:x-api-key"));
		const first = await hold(g, {});
		expect((await g.fetch("/request?delay=0")).status).toBe(429);
		expect((await keyStatus(g.routeNames()[0] ?? "", MISSING_KEY)).inFlight).toBe(1);
		await first.done();
	});

	it('with missing = "route-only", keyless requests face only the route total', async () => {
		const g = gate(perKeyLimits("header:x-api-key", { missing: "route-only" }));
		const held = [await hold(g, {}), await hold(g, {})];
		expect(held.map((h) => h.status)).toEqual([200, 200]);
		await Promise.all(held.map((h) => h.done()));
	});

	it("turns a key of any length or bytes into a short, fixed-size object name", async () => {
		const odd = ["x".repeat(8_000), '\u0000\uffff\ud83d\ude00 ;=,"', "../../etc/passwd"];
		const names = await Promise.all(odd.map((key) => keyObjectName("k", key)));
		for (const name of names) expect(name).toMatch(/^key:k:[0-9a-f]{32}$/);
		expect(new Set(names).size).toBe(odd.length);

		const g = gate(perKeyLimits("header:x-api-key"));
		const res = await g.fetch("/request?delay=0", { headers: { "x-api-key": "y".repeat(8_000) } });
		expect(res.status).toBe(200);
		await res.arrayBuffer();
	});
});
