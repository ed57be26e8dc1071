// Priority classes through the gate: a class leaves its headroom free for the classes above it (issue 21).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/parse.ts";
import { isolateCounters } from "../src/isolate/isolate-counters.ts";
import type { Gate } from "./helpers/gate.ts";
import { eventually, gate } from "./helpers/gate.ts";

const JSON_ACCEPT = { accept: "application/problem+json" };
const CRITICAL = { "x-class": "critical" };

const classes = [
	{ name: "critical", headroom: 0, match: { header: { name: "x-class", value: "critical" } }, trusted: true },
	{ name: "bulk", headroom: 0.5 },
];

/** Holds a permit while a slow body streams (chunks × 50 ms) until `done` reads it to the end. */
async function hold(g: Gate, headers: Record<string, string> = {}, chunks = 40) {
	const res = await g.fetch(`/stream?chunks=${chunks}&interval=50`, { headers });
	return { status: res.status, done: () => res.arrayBuffer() };
}

async function ask(g: Gate, headers: Record<string, string> = {}): Promise<{ status: number; scope?: string }> {
	const res = await g.fetch("/request?delay=0", { headers: { ...headers, ...JSON_ACCEPT } });
	if (res.status !== 429) {
		await res.text();
		return { status: res.status };
	}
	return { status: res.status, scope: ((await res.json()) as { scope: string }).scope };
}

describe("priority classes", () => {
	it("Should hold a class to floor(limit × (1 − headroom)) and keep the rest for the class above it", async () => {
		const g = gate({ routes: [{ name: "c", path: "/*", limit: 4, classes }] });
		const bulk = [await hold(g), await hold(g)];
		expect(bulk.map((h) => h.status)).toEqual([200, 200]);
		// Unmatched traffic is the default class (the last one): it may hold 2 of 4.
		expect(await ask(g)).toEqual({ status: 429, scope: "class" });
		const critical = [await hold(g, CRITICAL), await hold(g, CRITICAL)];
		expect(critical.map((h) => h.status)).toEqual([200, 200]);
		// The total never passes the limit, whatever the class.
		expect(await ask(g, CRITICAL)).toEqual({ status: 429, scope: "route" });
		await Promise.all([...bulk, ...critical].map((h) => h.done()));
	});

	it("Should answer a flood of a class at its cap from the isolate's memory (few object calls) and still admit the class above", async () => {
		const g = gate({ routes: [{ name: "c", path: "/*", limit: 4, classes }] });
		const bulk = [await hold(g), await hold(g)];
		const before = (await g.status("c")).counters.refused;
		for (let i = 0; i < 10; i++) expect(await ask(g)).toEqual({ status: 429, scope: "class" });
		expect((await g.status("c")).counters.refused - before).toBeLessThanOrEqual(3);
		expect(isolateCounters(g.routeNames()[0] ?? "").localRefusals).toBeGreaterThanOrEqual(7);
		expect(await ask(g, CRITICAL)).toEqual({ status: 200 });
		// The refusals made from memory reach the object in the isolate's next report: per class, every one counts once.
		await eventually(async () => expect((await g.status("c")).classes?.refused).toEqual([0, 10]));
		await Promise.all(bulk.map((h) => h.done()));
	});

	it("Should classify by path, method and host, and send unmatched requests to the named default class", async () => {
		const g = gate({
			routes: [
				{
					name: "c",
					path: "/*",
					limit: 4,
					defaultClass: "bulk",
					classes: [
						{ name: "streams", headroom: 0, match: { path: "/stream", methods: ["GET"], host: "gate.test" } },
						{ name: "bulk", headroom: 0.5 },
						{ name: "never", headroom: 0.9, match: { methods: ["DELETE"] } },
					],
				},
			],
		});
		// Unmatched requests go to the default class "bulk" (not the last class, "never", whose cap is 0): it may hold 2.
		const bulk = [g.fetch("/request?delay=600"), g.fetch("/request?delay=600")];
		await eventually(async () => expect((await g.status("c")).inFlight).toBe(2));
		expect(await ask(g)).toEqual({ status: 429, scope: "class" });
		// GET /stream on gate.test is "streams", which may use the whole limit.
		const stream = await hold(g, {}, 4);
		expect(stream.status).toBe(200);
		// DELETE is "never": floor(4 × 0.1) = 0 permits.
		const deleted = await g.fetch("/request?delay=0", { method: "DELETE", headers: JSON_ACCEPT });
		expect(deleted.status).toBe(429);
		await deleted.text();
		await Promise.all([...bulk.map(async (r) => (await r).text()), stream.done()]);
	});

	it("Should give a freed permit to a waiting critical request before an earlier bulk one", async () => {
		const g = gate({
			routes: [
				{
					name: "c",
					path: "/*",
					limit: 2,
					queue: { size: 5, maxWaitMs: 3_000 },
					classes: [classes[0], { name: "bulk", headroom: 0 }],
				},
			],
		});
		const short = await hold(g, {}, 4);
		const long = await hold(g, {}, 30);
		const order: string[] = [];
		const bulk = g.fetch("/request?delay=0").then(async (r) => {
			order.push("bulk");
			await r.text();
			return r.status;
		});
		await new Promise((r) => setTimeout(r, 50));
		const critical = g.fetch("/request?delay=0", { headers: CRITICAL }).then(async (r) => {
			order.push("critical");
			await r.text();
			return r.status;
		});
		await short.done();
		expect(await critical).toBe(200);
		await long.done();
		expect(await bulk).toBe(200);
		expect(order).toEqual(["critical", "bulk"]);
	});
});

describe("class settings", () => {
	const route = (extra: Record<string, unknown>) => ({ LIMITS: { routes: [{ name: "r", path: "/*", limit: 10, ...extra }] } });

	it("Should refuse a class matched by a header or cookie unless it says trusted = true, saying why", () => {
		const result = parseConfig(
			route({
				classes: [
					{ name: "vip", headroom: 0, match: { header: { name: "x-tier", value: "vip" } } },
					{ name: "fans", headroom: 0.2, match: { cookie: { name: "tier", value: "fan" } } },
					{ name: "rest", headroom: 0.5 },
				],
			}),
		);
		expect(!result.ok && result.errors).toEqual([
			expect.stringMatching(
				/^LIMITS\.routes\[0\] \("r"\)\.classes\[0\]\.match\.header: got \{"name":"x-tier","value":"vip"\}, expected trusted = true .*any client could send it and claim class "vip"/,
			),
			expect.stringMatching(/^LIMITS\.routes\[0\] \("r"\)\.classes\[1\]\.match\.cookie: got .*expected trusted = true/),
		]);
	});

	it("Should refuse headroom that decreases down the list, an unknown default class and blocks, all at once", () => {
		const result = parseConfig(
			route({
				limit: 40,
				blocks: { max: 4 },
				defaultClass: "nobody",
				classes: [
					{ name: "a", headroom: 0.5 },
					{ name: "b", headroom: 0.2 },
				],
			}),
		);
		expect(!result.ok && result.errors).toEqual([
			'LIMITS.routes[0] ("r").classes[1].headroom: got 0.2, expected at least 0.5 (the headroom of "a" above it): a less critical class must leave at least as much free as a more critical one',
			'LIMITS.routes[0] ("r").defaultClass: got "nobody", expected the name of one of the classes ("a", "b")',
			expect.stringMatching(/^LIMITS\.routes\[0\] \("r"\)\.blocks: got \{"max":4\}, expected "off" or nothing on a route with classes/),
		]);
	});

	it("Should name a wrong headroom's value and range", () => {
		const result = parseConfig(route({ classes: [{ name: "a", headroom: 1 }] }));
		expect(!result.ok && result.errors).toEqual([
			'LIMITS.routes[0] ("r").classes[0].headroom: got 1, expected a number from 0 (inclusive) to 1 (exclusive)',
		]);
	});
});

describe("each class's part of the queue", () => {
	it("Should let a class with those below it fill at most its headroom's part of the queue, keeping places for the classes above", async () => {
		const stub = env.GAUGE.getByName(`class-queue-${crypto.randomUUID()}`);
		const headrooms = [0, 0.5];
		const queue = { size: 4, maxWaitMs: 30_000 };
		// Limit 2: bulk may hold floor(2 × 0.5) = 1, and queue floor(4 × 0.5) = 2.
		const ask = (leaseId: string, index: number) =>
			stub.acquire({ leaseId, limit: 2, maxHoldMs: 60_000, queue, priority: { index, headrooms } });
		expect(await ask("holder", 0)).toMatchObject({ ok: true });
		expect(await ask("holder-2", 0)).toMatchObject({ ok: true });
		const waiting = [ask("bulk-1", 1), ask("bulk-2", 1)];
		await eventually(async () => expect((await stub.status()).queued).toBe(2));
		expect(await ask("bulk-3", 1)).toMatchObject({ ok: false, reason: "queue-full" });
		const critical = ask("critical", 0);
		await eventually(async () => expect((await stub.status()).queued).toBe(3));
		await stub.release("holder", 60_000);
		expect(await critical).toMatchObject({ ok: true, leaseId: "critical" });
		await stub.release("critical", 60_000);
		expect(await waiting[0]).toMatchObject({ ok: true, leaseId: "bulk-1" });
		await stub.release("bulk-1", 60_000);
		expect(await waiting[1]).toMatchObject({ ok: true });
	});
});
