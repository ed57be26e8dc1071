import { describe, expect, it } from "vitest";
import { formatPolicy, formatRateLimit } from "../src/responses/ratelimit-headers.ts";
import { gate } from "./helpers/gate.ts";

describe("RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11)", () => {
	const views = [
		{ policy: "api.per-key", limit: 2, remaining: 0, resetSeconds: 3 },
		{ policy: "api", limit: 10, remaining: 7 },
	];

	it("formats RateLimit-Policy with the concurrent-requests quota unit", () => {
		expect(formatPolicy(views)).toMatchInlineSnapshot(`""api.per-key";q=2;qu="concurrent-requests", "api";q=10;qu="concurrent-requests""`);
	});

	it("formats RateLimit with remaining permits and, on a refusal, the reset estimate", () => {
		expect(formatRateLimit(views)).toMatchInlineSnapshot(`""api.per-key";r=0;t=3, "api";r=7"`);
	});
});

describe("refusal responses", () => {
	const limits = (extra: Record<string, unknown> = {}) => ({ routes: [{ name: "h", path: "/*", limit: 1, ...extra }] });

	it("429 carries Retry-After, RateLimit-Policy and RateLimit, and the seed's plain body", async () => {
		const g = gate(limits());
		const held = await g.fetch("/stream?chunks=10&interval=50");
		const res = await g.fetch("/request");
		expect(res.status).toBe(429);
		expect(await res.text()).toBe("Too many requests");
		const policy = g.routeNames()[0];
		expect(res.headers.get("ratelimit-policy")).toBe(`"${policy}";q=1;qu="concurrent-requests"`);
		expect(res.headers.get("ratelimit")).toBe(`"${policy}";r=0;t=${res.headers.get("retry-after")}`);
		await held.arrayBuffer();
	});

	it("answers application/problem+json (RFC 9457) to a client that asks for JSON", async () => {
		const g = gate(limits());
		const held = await g.fetch("/stream?chunks=10&interval=50");
		const res = await g.fetch("/request", { headers: { accept: "application/json" } });
		expect(res.status).toBe(429);
		expect(res.headers.get("content-type")).toBe("application/problem+json");
		const retryAfter = Number(res.headers.get("retry-after"));
		expect(await res.json()).toEqual({
			type: "about:blank",
			title: "Too many requests",
			status: 429,
			detail: `Every permit of route "${g.routeNames()[0]}" is in use; retry after ${retryAfter} s.`,
			route: g.routeNames()[0],
			scope: "route",
			retryAfter,
		});
		await held.arrayBuffer();
	});

	it('puts RateLimit fields on admitted responses with rateLimitHeaders = "all", and on none with "none"', async () => {
		const all = gate(limits({ limit: 3, rateLimitHeaders: "all" }));
		const admitted = await all.fetch("/request?delay=0");
		expect(admitted.headers.get("ratelimit")).toBe(`"${all.routeNames()[0]}";r=2`);
		await admitted.arrayBuffer();

		const none = gate(limits({ rateLimitHeaders: "none" }));
		const held = await none.fetch("/stream?chunks=10&interval=50");
		const refused = await none.fetch("/request");
		expect(refused.status).toBe(429);
		expect(refused.headers.get("ratelimit")).toBeNull();
		expect(refused.headers.get("retry-after")).not.toBeNull();
		await held.arrayBuffer();
	});

	describe("with perKey (the examples in docs/responses.md)", () => {
		const perKey = limits({ limit: 3, perKey: { limit: 1, by: "header:x-api-key" } });

		it("a key's full share: the answer names the key's share, and only that limit (the route was never asked)", async () => {
			const g = gate(perKey);
			const held = await g.fetch("/stream?chunks=10&interval=50", { headers: { "x-api-key": "k1" } });
			const res = await g.fetch("/request", { headers: { "x-api-key": "k1", accept: "application/json" } });
			expect(res.status).toBe(429);
			const route = g.routeNames()[0];
			const t = res.headers.get("retry-after");
			expect(res.headers.get("ratelimit-policy")).toBe(`"${route}.per-key";q=1;qu="concurrent-requests"`);
			expect(res.headers.get("ratelimit")).toBe(`"${route}.per-key";r=0;t=${t}`);
			const problem = (await res.json()) as { detail: string; scope: string };
			expect(problem.scope).toBe("key");
			expect(problem.detail).toBe(`This client's share of route "${route}" is in use (perKey); retry after ${t} s.`);
			await held.arrayBuffer();
		});

		it("the route full while the key has room: both limits, the key's first", async () => {
			const g = gate(perKey);
			const held = await Promise.all(
				["a", "b", "c"].map((key) => g.fetch("/stream?chunks=10&interval=50", { headers: { "x-api-key": key } })),
			);
			const res = await g.fetch("/request", { headers: { "x-api-key": "d" } });
			expect(res.status).toBe(429);
			const route = g.routeNames()[0];
			const t = res.headers.get("retry-after");
			expect(res.headers.get("ratelimit-policy")).toBe(
				`"${route}.per-key";q=1;qu="concurrent-requests", "${route}";q=3;qu="concurrent-requests"`,
			);
			expect(res.headers.get("ratelimit")).toBe(`"${route}.per-key";r=0, "${route}";r=0;t=${t}`);
			expect(await res.text()).toBe("Too many requests");
			await Promise.all(held.map((r) => r.arrayBuffer()));
		});
	});

	it("admitted responses carry no RateLimit fields by default", async () => {
		const g = gate(limits());
		const res = await g.fetch("/request?delay=0");
		expect(res.headers.get("ratelimit")).toBeNull();
		await res.arrayBuffer();
	});
});

describe("RateLimit fields advertise the limit in force (issue 14, item 7)", () => {
	const TOKEN = "headers-token";
	const put = (g: ReturnType<typeof gate>, limit: number) =>
		g.fetch(`/__gauge/routes/${g.routeNames()[0]}/limit`, {
			method: "PUT",
			headers: { authorization: `Bearer ${TOKEN}` },
			body: JSON.stringify({ limit }),
		});

	it("q and r come from the same limit: after PUT 10 on a route configured at 2, q=10 and r=9", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 2, rateLimitHeaders: "all" }] }, { ADMIN_TOKEN: TOKEN });
		expect((await put(g, 10)).status).toBe(200);
		const res = await g.fetch("/request?delay=0");
		const policy = g.routeNames()[0];
		expect(res.headers.get("ratelimit-policy")).toBe(`"${policy}";q=10;qu="concurrent-requests"`);
		expect(res.headers.get("ratelimit")).toBe(`"${policy}";r=9`);
		await res.arrayBuffer();
	});

	it("a refusal advertises the runtime limit: after PUT 3 on a route configured at 20, q=3", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 20 }] }, { ADMIN_TOKEN: TOKEN });
		expect((await put(g, 3)).status).toBe(200);
		const held = [
			await g.fetch("/stream?chunks=10&interval=50"),
			await g.fetch("/stream?chunks=10&interval=50"),
			await g.fetch("/stream?chunks=10&interval=50"),
		];
		// The second refusal may come from this isolate's memory that the gauge is full: it must say the same.
		for (const refused of [await g.fetch("/request"), await g.fetch("/request")]) {
			expect(refused.status).toBe(429);
			expect(refused.headers.get("ratelimit-policy")).toBe(`"${g.routeNames()[0]}";q=3;qu="concurrent-requests"`);
			await refused.arrayBuffer();
		}
		await Promise.all(held.map((r) => r.arrayBuffer()));
	});

	it("on a sharded route, q is the route's total in force and r never exceeds it", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 6, shards: 3, rateLimitHeaders: "all" }] }, { ADMIN_TOKEN: TOKEN });
		expect((await put(g, 9)).status).toBe(200);
		const res = await g.fetch("/request?delay=0");
		expect(res.headers.get("ratelimit-policy")).toBe(`"${g.routeNames()[0]}";q=9;qu="concurrent-requests"`);
		const r = Number(/;r=(\d+)/.exec(res.headers.get("ratelimit") ?? "")?.[1]);
		expect(r).toBeGreaterThanOrEqual(0);
		expect(r).toBeLessThan(9);
		await res.arrayBuffer();
	});
});
