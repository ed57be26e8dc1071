// A cut exchange (client gone, body cancelled, deadline passed) and an origin that keeps working once its
// connection is gone: the permit stays counted for the route's cutRelease grace (issue 14, item 8).
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Gauge } from "../src/object/durable-object.ts";
import { eventually, gate } from "./helpers/gate.ts";

/** Moves a gauge's clock `ms` ahead of real time. */
async function later(stub: DurableObjectStub<Gauge>, ms: number): Promise<void> {
	await runInDurableObject(stub, (instance: Gauge) => {
		instance.clock = () => Date.now() + ms;
	});
}

describe("cut exchanges", () => {
	it("at the deadline, keeps counting the permit while the origin's handler still runs: it never runs more than the limit", async () => {
		// The origin's handler sleeps 500 ms whatever happens to its connection; the deadline cuts it at 150 ms.
		const g = gate({ routes: [{ name: "c", path: "/*", limit: 1, originTimeoutMs: 150, cutRelease: { graceMs: 600 } }] });
		const statuses: number[] = [];
		const until = Date.now() + 1_500;
		while (Date.now() < until) {
			const res = await g.fetch("/request?delay=500", { signal: AbortSignal.timeout(5_000) });
			statuses.push(res.status);
			await res.arrayBuffer();
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
		const origin = await g.origin();
		expect(origin.handlersPeak).toBe(1);
		// The permit did come back after each grace: more than one exchange reached the origin.
		expect(statuses.filter((s) => s === 504).length).toBeGreaterThanOrEqual(2);
		await g.settle();
		expect((await g.status("c")).counters.reaped).toBe(0);
	});

	it("a client that leaves keeps the permit counted for the grace, then it is free: released, never reaped", async () => {
		const g = gate({ routes: [{ name: "c", path: "/*", limit: 1, cutRelease: { graceMs: 300 } }] });
		const client = new AbortController();
		const gone = g.fetch("/request?delay=1000", { signal: client.signal });
		await eventually(async () => expect((await g.origin()).inFlight).toBe(1));
		client.abort();
		await gone.then(
			(r) => r.body?.cancel(),
			() => undefined,
		);
		await g.settle();
		expect((await g.status("c")).inFlight).toBe(1);
		expect((await g.fetch("/request?delay=0")).status).toBe(429);
		await later(g.gauge("c"), 400);
		const status = await g.status("c");
		expect(status.inFlight).toBe(0);
		expect(status.counters).toMatchObject({ released: 1, reaped: 0 });
	});

	it("hands the permit to a waiter when the grace ends", async () => {
		const g = gate({
			routes: [{ name: "c", path: "/*", limit: 1, cutRelease: { graceMs: 5_000 }, queue: { size: 2, maxWaitMs: 10_000 } }],
		});
		const client = new AbortController();
		const gone = g.fetch("/request?delay=1000", { signal: client.signal });
		await eventually(async () => expect((await g.origin()).inFlight).toBe(1));
		const waiter = g.fetch("/request?delay=0", { signal: AbortSignal.timeout(10_000) });
		await eventually(async () => expect((await g.status("c")).queued).toBe(1));
		client.abort();
		await gone.then(
			(r) => r.body?.cancel(),
			() => undefined,
		);
		// (Not g.settle(): the waiter's acquisition is in its waitUntil until it is admitted.)
		await eventually(async () => expect((await g.status("c")).counters.released).toBe(1));
		expect((await g.status("c")).queued).toBe(1);
		await later(g.gauge("c"), 5_100);
		expect(await runDurableObjectAlarm(g.gauge("c"))).toBe(true);
		const res = await waiter;
		expect(res.status).toBe(200);
		await res.arrayBuffer();
	});

	it("never holds a permit past its lease, whatever the grace: its end is still a release, not a leak", async () => {
		const g = gate({
			routes: [{ name: "c", path: "/*", limit: 1, originTimeoutMs: 100, maxHoldMs: 1_200, cutRelease: { graceMs: 60_000 } }],
		});
		const res = await g.fetch("/hang", { signal: AbortSignal.timeout(5_000) });
		expect(res.status).toBe(504);
		await g.settle();
		expect((await g.status("c")).inFlight).toBe(1);
		await later(g.gauge("c"), 1_300);
		expect((await g.status("c")).inFlight).toBe(0);
		expect((await g.status("c")).counters).toMatchObject({ released: 1, reaped: 0 });
	});
});
