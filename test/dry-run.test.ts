import { describe, expect, it } from "vitest";
import { DRY_RUN_HEADER } from "../src/gate/hold-permit.ts";
import { gate } from "./helpers/gate.ts";

describe("dry-run", () => {
	it("admits everything, marks and counts what would have been refused", async () => {
		const g = gate({ routes: [{ name: "d", path: "/*", limit: 1, dryRun: true }] });
		const results = await Promise.all(Array.from({ length: 5 }, () => g.fetch("/request?delay=100")));
		expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
		expect(results.filter((r) => r.headers.get(DRY_RUN_HEADER) === "would-refuse")).toHaveLength(4);
		await Promise.all(results.map((r) => r.arrayBuffer()));
		expect((await g.origin()).total).toBe(5);
		const { counters, inFlight } = await g.status("d");
		expect(counters).toMatchObject({ admitted: 1, refused: 0, dryRunRefused: 4 });
		expect(inFlight).toBe(0);
	});

	it("applies to per-key limits too", async () => {
		const g = gate({ routes: [{ name: "d", path: "/*", limit: 10, dryRun: true, perKey: { limit: 1, by: "header:x-user" } }] });
		const results = await Promise.all(Array.from({ length: 3 }, () => g.fetch("/request?delay=100", { headers: { "x-user": "u" } })));
		expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
		expect(results.filter((r) => r.headers.get(DRY_RUN_HEADER))).toHaveLength(2);
		await Promise.all(results.map((r) => r.arrayBuffer()));
	});
});

describe("dry-run with shards and queues", () => {
	it("on a sharded route, marks exactly the requests it counts: those every shard tried would refuse (issue 14, item 5)", async () => {
		const g = gate({ routes: [{ name: "d", path: "/*", limit: 2, shards: 2, dryRun: true }] });
		const results = await Promise.all(Array.from({ length: 12 }, () => g.fetch("/request?delay=200")));
		expect(results.every((r) => r.status === 200)).toBe(true);
		const marked = results.filter((r) => r.headers.get(DRY_RUN_HEADER) === "would-refuse").length;
		await Promise.all(results.map((r) => r.arrayBuffer()));
		const shards = await g.shardStatuses("d", 2);
		const counted = shards.reduce((n, s) => n + s.counters.dryRunRefused, 0);
		const admitted = shards.reduce((n, s) => n + s.counters.admitted, 0);
		expect(marked).toBe(counted);
		expect(marked + admitted).toBe(12);
		expect(marked).toBeGreaterThan(0);
	});

	it("never makes a request wait in the queue: dry-run changes nothing a client sees (issue 14, item 6)", async () => {
		const g = gate({ routes: [{ name: "d", path: "/*", limit: 1, dryRun: true, queue: { size: 5, maxWaitMs: 5_000 } }] });
		const holder = await g.fetch("/stream?chunks=40&interval=25");
		const res = await g.fetch("/request?delay=0");
		expect(res.status).toBe(200);
		expect(res.headers.get(DRY_RUN_HEADER)).toBe("would-refuse");
		await res.arrayBuffer();
		// Served while the holder still streams: it did not wait for the holder's permit.
		expect((await g.origin()).peak).toBe(2);
		expect((await g.status("d")).counters).toMatchObject({ queued: 0, dryRunRefused: 1 });
		await holder.arrayBuffer();
	});
});
