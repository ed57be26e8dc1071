import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Gauge } from "../src/object/durable-object.ts";
import { eventually, gate } from "./helpers/gate.ts";

const queued = (size: number, maxWaitMs: number) => ({ routes: [{ name: "q", path: "/*", limit: 1, queue: { size, maxWaitMs } }] });

describe("the bounded wait queue", () => {
	it("admits waiters in arrival order, each the moment a permit frees", async () => {
		const g = gate(queued(5, 5_000));
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		const finished: string[] = [];
		const waiters: Promise<number>[] = [];
		for (const name of ["a", "b", "c"]) {
			waiters.push(
				g.fetch(`/request?delay=20&who=${name}`).then(async (res) => {
					await res.arrayBuffer();
					finished.push(name);
					return res.status;
				}),
			);
			// Each waiter is in the queue before the next arrives.
			await eventually(async () => expect((await g.status("q")).queued).toBe(waiters.length));
		}
		await holder.arrayBuffer();
		expect(await Promise.all(waiters)).toEqual([200, 200, 200]);
		expect(finished).toEqual(["a", "b", "c"]);
		expect((await g.origin()).peak).toBe(1);
		expect((await g.status("q")).counters).toMatchObject({ queued: 3, admitted: 4, refused: 0 });
	});

	it("refuses a waiter when its deadline passes", async () => {
		const g = gate(queued(5, 150));
		const holder = await g.fetch("/stream?chunks=20&interval=30");
		const start = Date.now();
		const res = await g.fetch("/request?delay=0");
		expect(res.status).toBe(429);
		expect(Date.now() - start).toBeGreaterThanOrEqual(140);
		expect((await g.status("q")).queued).toBe(0);
		await holder.arrayBuffer();
	});

	it("refuses at once when the queue is full", async () => {
		const g = gate(queued(1, 5_000));
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		const waiter = g.fetch("/request?delay=0");
		await eventually(async () => expect((await g.status("q")).queued).toBe(1));
		const overflow = await g.fetch("/request?delay=0");
		expect(overflow.status).toBe(429);
		await holder.arrayBuffer();
		expect((await waiter).status).toBe(200);
	});

	it("a client that disconnects while queued leaves the queue, holds nothing, and is not counted as refused", async () => {
		const g = gate(queued(5, 5_000));
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		const client = new AbortController();
		const gone = g.fetch("/request?delay=0", { signal: client.signal }).catch(() => undefined);
		await eventually(async () => expect((await g.status("q")).queued).toBe(1));
		client.abort();
		await gone;
		await eventually(async () => expect((await g.status("q")).queued).toBe(0));
		await holder.arrayBuffer();
		await g.settle();
		const status = await g.status("q");
		expect(status.inFlight).toBe(0);
		// Leaving is not a 429 the gate gave (it was counted as one before).
		expect(status.counters.refused).toBe(0);
		expect((await g.origin()).total).toBe(1);
	});

	it("gives a permit freed by lease expiry to the waiter, not to a newcomer", async () => {
		const g = gate({ routes: [{ name: "q", path: "/*", limit: 1, maxHoldMs: 40_000, queue: { size: 5, maxWaitMs: 10_000 } }] });
		const holder = await g.fetch("/stream?chunks=30&interval=30");
		const order: string[] = [];
		const run = async (who: string): Promise<number> => {
			const res = await g.fetch(`/request?delay=20&who=${who}`);
			await res.arrayBuffer();
			order.push(who);
			return res.status;
		};
		const waiter = run("waiter");
		await eventually(async () => expect((await g.status("q")).queued).toBe(1));
		// The holder's lease expires (as if its isolate had died): the next acquire finds room.
		await runInDurableObject(g.gauge("q"), (instance: Gauge) => {
			const later = Date.now() + 41_000;
			instance.clock = () => later;
		});
		const newcomer = run("newcomer");
		expect(await Promise.all([waiter, newcomer])).toEqual([200, 200]);
		expect(order).toEqual(["waiter", "newcomer"]);
		expect((await g.status("q")).counters.reaped).toBe(1);
		await holder.arrayBuffer();
	});
});
