// a waiter whose client left is resolved with refuse(…, "cancelled"), which counts it in counters.refused
// (and pressuregauge_refused_total): a disconnect is reported as a 429 the gate gave.
import { describe, expect, it } from "vitest";
import { eventually, gate } from "./helpers/gate.ts";

describe("queue cancel", () => {
	it("a client that leaves the queue is not counted as refused", async () => {
		const g = gate({ routes: [{ name: "q", path: "/*", limit: 1, queue: { size: 5, maxWaitMs: 5_000 } }] });
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		const client = new AbortController();
		const gone = g.fetch("/request?delay=0", { signal: client.signal }).catch(() => undefined);
		await eventually(async () => expect((await g.status("q")).queued).toBe(1));
		client.abort();
		await gone;
		await eventually(async () => expect((await g.status("q")).queued).toBe(0));
		await holder.arrayBuffer();
		await g.settle();
		expect((await g.status("q")).counters.refused).toBe(0);
	});
});
