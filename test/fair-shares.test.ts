// Max-min fair shares among keys, through the gate: perKey = { by } on a route is fair by default (issue 21).
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/parse.ts";
import { isolateCounters } from "../src/isolate/isolate-counters.ts";
import type { Gate } from "./helpers/gate.ts";
import { eventually, gate } from "./helpers/gate.ts";

const JSON_ACCEPT = { accept: "application/problem+json" };

/** Holds a permit while a slow body streams (chunks × 50 ms) until `done` reads it to the end. */
async function hold(g: Gate, key: string, chunks = 40) {
	const res = await g.fetch(`/stream?chunks=${chunks}&interval=50`, { headers: { "x-key": key } });
	return { status: res.status, done: () => res.arrayBuffer() };
}

/** A quick request's status and, when refused, which limit refused it (problem details' `scope`). */
async function ask(g: Gate, key: string): Promise<{ status: number; scope?: string }> {
	const res = await g.fetch("/request?delay=0", { headers: { "x-key": key, ...JSON_ACCEPT } });
	if (res.status !== 429) {
		await res.text();
		return { status: res.status };
	}
	return { status: res.status, scope: ((await res.json()) as { scope: string }).scope };
}

const fairRoute = (extra: Record<string, unknown> = {}) => ({
	routes: [{ name: "fair", path: "/*", limit: 4, perKey: { by: "header:x-key", ...extra } }],
});

describe("fair shares among keys (perKey.fair, the default)", () => {
	it("Should let a lone key use the whole limit while nobody else asks", async () => {
		const g = gate(fairRoute());
		const held = await Promise.all([1, 2, 3, 4].map(() => hold(g, "a", 4)));
		expect(held.map((h) => h.status)).toEqual([200, 200, 200, 200]);
		await Promise.all(held.map((h) => h.done()));
	});

	it("Should hold a heavy key to its share once another key was refused, and give the freed permit to the light key", async () => {
		const g = gate(fairRoute());
		const long = await Promise.all([1, 2, 3].map(() => hold(g, "heavy")));
		const short = await hold(g, "heavy", 4);
		expect([...long, short].map((h) => h.status)).toEqual([200, 200, 200, 200]);
		// The route is full: the light key is refused by the route's total, and the route is now contended.
		expect(await ask(g, "light")).toEqual({ status: 429, scope: "route" });
		await short.done();
		await eventually(async () => expect((await g.status("fair")).inFlight).toBe(3));
		// A permit is free, but the heavy key holds its share (4 − the light key's 1): refused as over its key's share.
		expect(await ask(g, "heavy")).toEqual({ status: 429, scope: "key" });
		expect((await g.status("fair")).fair).toMatchObject({ contended: true, activeKeys: 2, fairShare: 3 });
		expect(await ask(g, "light")).toEqual({ status: 200 });
		await Promise.all(long.map((h) => h.done()));
	});

	it("Should answer a key held to its share from the isolate's memory (few object calls), and still admit another key", async () => {
		const g = gate(fairRoute());
		const long = await Promise.all([1, 2, 3].map(() => hold(g, "heavy")));
		const light = await hold(g, "light", 4);
		expect(await ask(g, "heavy")).toEqual({ status: 429, scope: "route" });
		await light.done();
		await eventually(async () => expect((await g.status("fair")).inFlight).toBe(3));
		const before = (await g.status("fair")).counters.refused;
		for (let i = 0; i < 10; i++) expect(await ask(g, "heavy")).toEqual({ status: 429, scope: "key" });
		// Without hints each of the ten is an object call; with them, the first and a probe per lapsed hint.
		expect((await g.status("fair")).counters.refused - before).toBeLessThanOrEqual(3);
		expect(isolateCounters(g.routeNames()[0] ?? "").localRefusals).toBeGreaterThanOrEqual(7);
		// Counted once each: the object's own refusals there, the rest here; none as a fixed per-key limit's.
		expect(isolateCounters(g.routeNames()[0] ?? "").keyRefusals).toBe(0);
		expect(await ask(g, "light")).toEqual({ status: 200 });
		await Promise.all(long.map((h) => h.done()));
	});

	it("Should serve FIFO, first come first served, with fair = false", async () => {
		const g = gate(fairRoute({ fair: false, limit: 4 }));
		const long = await Promise.all([1, 2, 3].map(() => hold(g, "heavy")));
		const short = await hold(g, "heavy", 4);
		expect(await ask(g, "light")).toEqual({ status: 429, scope: "route" });
		await short.done();
		await eventually(async () => expect((await g.status("fair")).inFlight).toBe(3));
		expect(await ask(g, "heavy")).toEqual({ status: 200 });
		expect((await g.status("fair")).fair).toBeNull();
		await Promise.all(long.map((h) => h.done()));
	});

	it("Should keep a fixed perKey.limit as a hard ceiling on top of the fair share", async () => {
		const g = gate(fairRoute({ limit: 2 }));
		const held = await Promise.all([1, 2].map(() => hold(g, "a", 4)));
		expect(held.map((h) => h.status)).toEqual([200, 200]);
		expect(await ask(g, "a")).toEqual({ status: 429, scope: "key" });
		await Promise.all(held.map((h) => h.done()));
	});

	it("Should give a queued waiter of a key under its share the freed permit before an earlier waiter of a key over it", async () => {
		const g = gate({
			routes: [{ name: "fair", path: "/*", limit: 2, queue: { size: 5, maxWaitMs: 3_000 }, perKey: { by: "header:x-key" } }],
		});
		const first = await hold(g, "heavy", 4);
		const second = await hold(g, "heavy", 30);
		// Heavy queues first, light after it: heavy's share is 1 (light wants 1), so the freed permit goes to light.
		const heavyWaits = g.fetch("/request?delay=0", { headers: { "x-key": "heavy" } });
		await eventually(async () => expect((await g.status("fair")).queued).toBe(1));
		const lightWaits = g.fetch("/request?delay=0", { headers: { "x-key": "light" } });
		await eventually(async () => expect((await g.status("fair")).queued).toBe(2));
		await first.done();
		const light = await lightWaits;
		expect(light.status).toBe(200);
		await light.text();
		expect((await g.status("fair")).queued).toBe(1);
		await second.done();
		const heavy = await heavyWaits;
		expect(heavy.status).toBe(200);
		await heavy.text();
	});
});

describe("fair-share settings", () => {
	const route = (extra: Record<string, unknown>) => ({ LIMITS: { routes: [{ name: "r", path: "/*", limit: 40, ...extra }] } });

	it("Should turn blocks off on a fair route by default, and keep them with fair = false", () => {
		const fair = parseConfig(route({ perKey: { by: "ip" } }));
		const unfair = parseConfig(route({ perKey: { by: "ip", fair: false, limit: 5 } }));
		expect(fair.ok && fair.config.routes[0]?.blocks).toBeNull();
		expect(fair.ok && fair.config.routes[0]?.perKey).toMatchObject({ fair: true, limit: null });
		expect(unfair.ok && unfair.config.routes[0]?.blocks).not.toBeNull();
	});

	it("Should refuse blocks on a fair route, and perKey that limits nothing, naming field, value and why", () => {
		const result = parseConfig(route({ perKey: { by: "ip" }, blocks: { max: 4 } }));
		expect(result.ok).toBe(false);
		expect(!result.ok && result.errors).toEqual([
			expect.stringMatching(
				/^LIMITS\.routes\[0\] \("r"\)\.blocks: got \{"max":4\}, expected "off" or nothing on a fair route .*see every admission/,
			),
		]);
		const nothing = parseConfig(route({ perKey: { by: "ip", fair: false } }));
		expect(!nothing.ok && nothing.errors).toEqual([
			expect.stringMatching(/^LIMITS\.routes\[0\] \("r"\)\.perKey: got fair = false and no limit, expected a limit/),
		]);
	});
});
