// What /status and /metrics show of classes, fair shares and an adaptive queue (issue 21).
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

const TOKEN = "s3cret-token";
const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };

describe("seeing classes, fair shares and the queue mode", () => {
	it("Should show per class in flight, queued, admitted and refused, the fair share and the queue mode", async () => {
		const g = gate(
			{
				routes: [
					{
						name: "s",
						path: "/*",
						limit: 2,
						perKey: { by: "header:x-user" },
						queue: { size: 4, maxWaitMs: 100, order: "adaptive" },
						classes: [
							{ name: "critical", headroom: 0, match: { methods: ["POST"] } },
							{ name: "bulk", headroom: 0.5 },
						],
					},
				],
			},
			{ ADMIN_TOKEN: TOKEN },
		);
		const held = await g.fetch("/stream?chunks=10&interval=50", { headers: { "x-user": "a" } });
		const refused = await g.fetch("/request?delay=0", { headers: { "x-user": "b" } });
		expect(refused.status).toBe(429);
		await refused.text();
		const { routes } = (await (await g.fetch("/__gauge/status", bearer)).json()) as { routes: Record<string, unknown>[] };
		expect(routes[0]?.classes).toEqual([
			{ name: "critical", headroom: 0, inFlight: 0, queued: 0, admitted: 0, refused: 0 },
			{ name: "bulk", headroom: 0.5, inFlight: 1, queued: 0, admitted: 1, refused: 1 },
		]);
		expect(routes[0]?.fair).toEqual({ contended: true, activeKeys: 2, fairShare: 1 });
		expect(routes[0]?.queueMode).toEqual({ mode: "fifo", shedding: false });
		const metrics = await (await g.fetch("/__gauge/metrics", bearer)).text();
		const route = g.routeNames()[0];
		expect(metrics).toContain(`pressuregauge_class_refused_total{route="${route}",class="bulk"} 1`);
		expect(metrics).toContain(`pressuregauge_fair_share{route="${route}"} 1`);
		expect(metrics).toContain(`pressuregauge_queue_lifo{route="${route}"} 0`);
		await held.arrayBuffer();
	});
});
