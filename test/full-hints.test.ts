import { describe, expect, it } from "vitest";
import { isolateCounters } from "../src/gate/isolate-counters.ts";
import { FORGET_MS, FullHints, MAX_HINT_MS, MIN_HINT_MS, PROBE_MS } from "../src/gauge/full-hints.ts";
import { gate } from "./helpers/gate.ts";

describe("FullHints", () => {
	it("refuses for about as long as the object expects to stay full, within bounds", () => {
		const hints = new FullHints();
		hints.full("g", 1_000, 5, 70);
		expect(hints.check("g", 1_069)).toMatchObject({ until: 1_070, limit: 5, freeAt: 1_070 });
		expect(hints.check("g", 1_070)).toBeNull();
		hints.full("short", 0, 5, 0);
		expect(hints.check("short", MIN_HINT_MS - 1)).not.toBeNull();
		expect(hints.check("short", MIN_HINT_MS)).toBeNull();
		hints.full("long", 0, 5, 60_000);
		expect(hints.check("long", MAX_HINT_MS - 1)).not.toBeNull();
		expect(hints.check("long", MAX_HINT_MS)).toBeNull();
	});

	it("after a hint lapses, lets one request probe the object and refuses the rest while it is out", () => {
		const hints = new FullHints();
		hints.full("g", 0, 5, 50);
		expect(hints.check("g", 60)).toBeNull(); // the probe
		expect(hints.check("g", 61)).not.toBeNull();
		expect(hints.check("g", 60 + PROBE_MS - 1)).not.toBeNull();
		// A probe that never reported back: after PROBE_MS the next request probes.
		expect(hints.check("g", 60 + PROBE_MS)).toBeNull();
	});

	it("is cleared by a grant or a local release, and forgotten long after it lapsed", () => {
		const hints = new FullHints();
		hints.full("g", 0, 5, 100);
		hints.clear("g");
		expect(hints.check("g", 1)).toBeNull();
		expect(hints.check("g", 2)).toBeNull();
		hints.full("old", 0, 5, 100);
		expect(hints.check("old", 100 + FORGET_MS + 1)).toBeNull();
		expect(hints.check("old", 100 + FORGET_MS + 2)).toBeNull();
		expect(hints.size).toBe(0);
	});

	it("after this isolate frees a permit of a full gauge, lets exactly one request probe", () => {
		const hints = new FullHints();
		hints.full("g", 0, 5, 200);
		hints.freed("g", 10);
		expect(hints.check("g", 11)).toBeNull();
		expect(hints.check("g", 12)).not.toBeNull();
		hints.freed("g", 13);
		expect(hints.check("g", 14)).toBeNull();
		hints.freed("unknown", 15);
		expect(hints.check("unknown", 16)).toBeNull();
	});

	it("never leaves a request waiting: check is synchronous and returns at once", () => {
		const hints = new FullHints();
		hints.full("g", 0, 5, 100);
		const results = Array.from({ length: 1_000 }, (_, i) => hints.check("g", i));
		expect(results.every((r) => r === null || typeof r.until === "number")).toBe(true);
	});
});

describe("the cheap refusal path", () => {
	it("refuses a flood from the isolate's hint without Durable Object calls, and admits again as soon as this isolate releases", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 1 }] });
		const holder = await g.fetch("/stream?chunks=8&interval=40");
		expect((await g.fetch("/request?delay=0")).status).toBe(429);
		const refused = await Promise.all(Array.from({ length: 30 }, () => g.fetch("/request?delay=0")));
		expect(refused.map((r) => r.status)).toEqual(Array(30).fill(429));
		for (const r of refused) expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		// The grant that took the only permit said the gauge was full: the whole flood was answered here.
		expect((await g.status("h")).counters.refused).toBe(0);
		expect(isolateCounters(g.routeNames()[0] ?? "").localRefusals).toBe(31);
		await holder.arrayBuffer();
		const next = await g.fetch("/request?delay=0");
		expect(next.status).toBe(200);
		await next.text();
	});

	it("a grant clears the hint, so a burst below the limit is admitted in full", async () => {
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
