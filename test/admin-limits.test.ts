import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

const TOKEN = "limits-token";
const auth = { authorization: `Bearer ${TOKEN}` };

function admin(g: ReturnType<typeof gate>) {
	const name = g.routeNames()[0] ?? "";
	return {
		set: (body: unknown) => g.fetch(`/__gauge/routes/${name}/limit`, { method: "PUT", headers: auth, body: JSON.stringify(body) }),
		clear: () => g.fetch(`/__gauge/routes/${name}/limit`, { method: "DELETE", headers: auth }),
	};
}

const hold = (g: ReturnType<typeof gate>) => g.fetch("/stream?chunks=10&interval=50");

describe("runtime limits (PUT/DELETE …/routes/:name/limit)", () => {
	it("raises the limit at once, shows it beside the configured one, and clears back to the config", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 1 }] }, { ADMIN_TOKEN: TOKEN });
		const set = await admin(g).set({ limit: 3 });
		expect(set.status).toBe(200);
		expect(await set.json()).toMatchObject({ limit: { configured: 1, effective: 3, override: 3 } });
		const held = [await hold(g), await hold(g), await hold(g)];
		expect(held.map((r) => r.status)).toEqual([200, 200, 200]);
		expect((await g.fetch("/request")).status).toBe(429);
		await Promise.all(held.map((r) => r.arrayBuffer()));

		expect((await admin(g).clear()).status).toBe(200);
		const first = await hold(g);
		expect((await g.fetch("/request")).status).toBe(429);
		await first.arrayBuffer();
	});

	it("survives a restart of the route's Durable Object", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 1 }] }, { ADMIN_TOKEN: TOKEN });
		await admin(g).set({ limit: 2 });
		await evictDurableObject(g.gauge("r"));
		expect((await g.status("r")).limitOverride).toBe(2);
	});

	it("lowered below the live count, admits nothing new until the count drops under it", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 3 }] }, { ADMIN_TOKEN: TOKEN });
		// The third stays at the origin longest, so it is still in flight when the first two are done.
		const held = [await hold(g), await hold(g), await g.fetch("/stream?chunks=25&interval=40")];
		await admin(g).set({ limit: 1 });
		expect((await g.fetch("/request")).status).toBe(429);
		await held[0]?.arrayBuffer();
		await held[1]?.arrayBuffer();
		// One still in flight = the new limit: still full.
		expect((await g.fetch("/request")).status).toBe(429);
		await held[2]?.arrayBuffer();
		const next = await g.fetch("/request?delay=0");
		expect(next.status).toBe(200);
		await next.arrayBuffer();
	});

	it("rejects a bad limit with a message naming the field, and an unknown route with 404", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 3 }] }, { ADMIN_TOKEN: TOKEN });
		for (const body of [{ limit: 0 }, { limit: "5" }, { limit: 2.5 }, {}]) {
			const res = await admin(g).set(body);
			expect(res.status).toBe(400);
			expect(((await res.json()) as { error: string }).error).toMatch(/^limit: got .*, expected an integer >= 1/);
		}
		const notJson = await g.fetch(`/__gauge/routes/${g.routeNames()[0]}/limit`, { method: "PUT", headers: auth, body: "x" });
		expect(notJson.status).toBe(400);
		expect(await notJson.json()).toEqual({ error: 'body: not JSON, expected {"limit": 20}' });
		const unknown = await g.fetch("/__gauge/routes/nope/limit", { method: "PUT", headers: auth, body: '{"limit":2}' });
		expect(unknown.status).toBe(404);
		expect((await g.status("r")).limitOverride).toBeNull();
	});

	it("requires the token", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 3 }] }, { ADMIN_TOKEN: TOKEN });
		const res = await g.fetch(`/__gauge/routes/${g.routeNames()[0]}/limit`, { method: "PUT", body: '{"limit":9}' });
		expect(res.status).toBe(401);
		expect((await g.status("r")).limitOverride).toBeNull();
	});
});
