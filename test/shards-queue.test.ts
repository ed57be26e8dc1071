// A sharded route with a queue: a request waits once, in one shard's queue, and a refusal counts once.
import { describe, expect, it } from "vitest";
import { eventually, gate } from "./helpers/gate.ts";

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

describe("a sharded route with a queue", () => {
	it("waits in one shard's queue only, and counts a refusal once (issue 14, item 4)", async () => {
		const g = gate({ routes: [{ name: "sq", path: "/*", limit: 2, shards: 2, queue: { size: 4, maxWaitMs: 300 } }] });
		const holders = [await g.fetch("/stream?chunks=40&interval=25"), await g.fetch("/stream?chunks=40&interval=25")];
		expect(holders.map((r) => r.status)).toEqual([200, 200]);
		// Both shards are full: the next request is refused at its one deadline.
		const refused = await g.fetch("/request?delay=0");
		expect(refused.status).toBe(429);
		await refused.arrayBuffer();
		const shards = await g.shardStatuses("sq", 2);
		expect(sum(shards.map((s) => s.counters.queued))).toBe(1);
		expect(sum(shards.map((s) => s.counters.refused))).toBe(1);
		expect(sum(shards.map((s) => s.counters.admitted))).toBe(2);
		await Promise.all(holders.map((r) => r.arrayBuffer()));
	});

	it("a waiter is admitted from its queue when its shard frees a permit", async () => {
		const g = gate({ routes: [{ name: "sq", path: "/*", limit: 2, shards: 2, queue: { size: 4, maxWaitMs: 5_000 } }] });
		const holders = [await g.fetch("/stream?chunks=10&interval=30"), await g.fetch("/stream?chunks=10&interval=30")];
		const waiter = g.fetch("/request?delay=0");
		await eventually(async () => expect(sum((await g.shardStatuses("sq", 2)).map((s) => s.queued))).toBe(1));
		await Promise.all(holders.map((r) => r.arrayBuffer()));
		const res = await waiter;
		expect(res.status).toBe(200);
		await res.arrayBuffer();
		const shards = await g.shardStatuses("sq", 2);
		expect(sum(shards.map((s) => s.counters.queued))).toBe(1);
		expect(sum(shards.map((s) => s.counters.refused))).toBe(0);
		expect((await g.origin()).peak).toBeLessThanOrEqual(2);
	});
});
