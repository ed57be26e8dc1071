import { describe, expect, it } from "vitest";
import { isolateCounters } from "../src/gate/isolate-counters.ts";
import { FullHints, MAX_HINT_MS, MIN_HINT_MS } from "../src/gauge/full-hints.ts";
import { gate } from "./helpers/gate.ts";

describe("FullHints", () => {
	it("lives about as long as the object expects to stay full, within bounds", () => {
		const hints = new FullHints();
		hints.set("g", 1_000, 5, 70);
		expect(hints.get("g", 1_069)).toMatchObject({ until: 1_070, limit: 5, freeAt: 1_070 });
		expect(hints.get("g", 1_070)).toBeNull();
		hints.set("short", 0, 5, 0);
		expect(hints.get("short", MIN_HINT_MS - 1)).not.toBeNull();
		expect(hints.get("short", MIN_HINT_MS)).toBeNull();
		hints.set("long", 0, 5, 60_000);
		expect(hints.get("long", MAX_HINT_MS)).toBeNull();
	});

	it("is cleared when this isolate frees a permit", () => {
		const hints = new FullHints();
		hints.set("g", 0, 5, 100);
		hints.clear("g");
		expect(hints.get("g", 1)).toBeNull();
	});
});

describe("the cheap refusal path", () => {
	it("refuses a flood from the isolate's hint with one Durable Object call, and admits again as soon as this isolate releases", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 1 }] });
		const holder = await g.fetch("/stream?chunks=8&interval=40");
		expect((await g.fetch("/request?delay=0")).status).toBe(429);
		const refused = await Promise.all(Array.from({ length: 30 }, () => g.fetch("/request?delay=0")));
		expect(refused.map((r) => r.status)).toEqual(Array(30).fill(429));
		for (const r of refused) expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		// The first refusal asked the object; the flood after it was answered from the hint.
		expect((await g.status("h")).counters.refused).toBe(1);
		expect(isolateCounters(g.routeNames()[0] ?? "").localRefusals).toBe(30);
		await holder.arrayBuffer();
		const next = await g.fetch("/request?delay=0");
		expect(next.status).toBe(200);
		await next.text();
	});

	it("a burst that arrives with no hint sends one probe to the object; the rest wait for its answer", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 1 }] });
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		const refused = await Promise.all(Array.from({ length: 30 }, () => g.fetch("/request?delay=0")));
		expect(refused.map((r) => r.status)).toEqual(Array(30).fill(429));
		expect((await g.status("h")).counters.refused).toBe(1);
		expect(isolateCounters(g.routeNames()[0] ?? "").localRefusals).toBe(29);
		await holder.arrayBuffer();
	});

	it("when the probe is granted, the requests that waited on it ask the object themselves", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 3 }] });
		const results = await Promise.all(Array.from({ length: 10 }, () => g.fetch("/request?delay=100")));
		expect(results.filter((r) => r.status === 200)).toHaveLength(3);
		await Promise.all(results.map((r) => r.text()));
		expect((await g.status("h")).inFlight).toBe(0);
	});

	it("sequential refusals reach the object once per hint", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 1 }] });
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		for (let i = 0; i < 10; i++) expect((await g.fetch("/request?delay=0")).status).toBe(429);
		expect((await g.status("h")).counters.refused).toBeLessThanOrEqual(2);
		await holder.arrayBuffer();
	});

	it("never answers from a hint for queued or dry-run routes", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 1, dryRun: true }] });
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		for (let i = 0; i < 5; i++) await (await g.fetch("/request?delay=0")).text();
		expect((await g.status("h")).counters.dryRunRefused).toBe(5);
		expect(isolateCounters(g.routeNames()[0] ?? "").localRefusals).toBe(0);
		await holder.arrayBuffer();
	});
});
