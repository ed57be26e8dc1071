// Refusals of a client's perKey share count where an operator looks: /status, /metrics and the status page's
// refusals per second read them, not only the key's own Durable Object (which no report lists).
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

const TOKEN = "s3cret-token";
const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };

interface Reported {
	counters: { refused: number };
	isolate: { localRefusals: number; keyRefusals: number };
}

describe("per-key refusals", () => {
	it('show in /status (isolate.keyRefusals) and in /metrics as refused_total with scope="key"', async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 10, perKey: { limit: 1, by: "header:x-user" } }] }, { ADMIN_TOKEN: TOKEN });
		const user = { headers: { "x-user": "a" } };
		const held = await g.fetch("/stream?chunks=10&interval=50", user);
		const refused = await Promise.all([g.fetch("/x", user), g.fetch("/x", user), g.fetch("/x", user)]);
		expect(refused.map((r) => r.status)).toEqual([429, 429, 429]);
		await Promise.all([held, ...refused].map((r) => r.arrayBuffer()));
		// The isolate reports what it decided in a batch, about a second later, from the refused requests' waitUntil.
		await g.settle();

		const { routes } = (await (await g.fetch("/__gauge/status", bearer)).json()) as { routes: Reported[] };
		expect(routes[0]?.counters.refused).toBe(0);
		expect(routes[0]?.isolate.keyRefusals).toBe(3);
		expect(routes[0]?.isolate.localRefusals).toBe(0);

		const metrics = await (await g.fetch("/__gauge/metrics", bearer)).text();
		const route = g.routeNames()[0];
		expect(metrics).toContain(`pressuregauge_refused_total{route="${route}",scope="key"} 3`);
		expect(metrics).toContain(`pressuregauge_refused_total{route="${route}",scope="route"} 0`);
	});

	it('a refusal by the route\'s total still counts as scope="route", not "key"', async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 1, perKey: { limit: 5, by: "header:x-user" } }] }, { ADMIN_TOKEN: TOKEN });
		const held = await g.fetch("/stream?chunks=10&interval=50", { headers: { "x-user": "a" } });
		const refused = await g.fetch("/x", { headers: { "x-user": "b", accept: "application/json" } });
		expect(refused.status).toBe(429);
		expect(((await refused.json()) as { scope: string }).scope).toBe("route");
		await held.arrayBuffer();
		await g.settle();
		const { routes } = (await (await g.fetch("/__gauge/status", bearer)).json()) as { routes: Reported[] };
		expect(routes[0]?.isolate.keyRefusals).toBe(0);
		expect((routes[0]?.counters.refused ?? 0) + (routes[0]?.isolate.localRefusals ?? 0)).toBe(1);
	});
});
