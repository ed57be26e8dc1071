// A key's permit is taken before its request waits in the route's queue: its lease must cover that wait.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keyObjectName } from "../src/core/partition.ts";
import type { Gauge } from "../src/object/durable-object.ts";
import { eventually, gate } from "./helpers/gate.ts";

const HOLD = 60_000;

describe("a per-key limit on a route with a queue", () => {
	it("keeps a key's lease for as long as its request may wait and then run (issue 14, item 1)", async () => {
		const g = gate({
			routes: [
				{
					name: "kq",
					path: "/*",
					limit: 2,
					originTimeoutMs: 2_000,
					maxHoldMs: 3_000,
					queue: { size: 5, maxWaitMs: 5_000 },
					perKey: { limit: 1, by: "header:x-key" },
				},
			],
		});
		const route = g.routeNames()[0] ?? "";
		const keyA = env.GAUGE.getByName(await keyObjectName(route, "a"));
		const holders = [
			await g.fetch("/stream?chunks=30&interval=20", { headers: { "x-key": "h1" } }),
			await g.fetch("/stream?chunks=60&interval=20", { headers: { "x-key": "h2" } }),
		];
		// A takes key a's permit, then waits in the route's queue.
		const a = g.fetch("/request?delay=800", { headers: { "x-key": "a" } });
		await eventually(async () => expect((await g.status("kq")).queued).toBe(1));
		// It waits 3.1 s on key a's clock: past maxHoldMs, still within the queue's maxWaitMs.
		await runInDurableObject(keyA, (instance: Gauge) => {
			const later = Date.now() + 3_100;
			instance.clock = () => later;
		});
		await holders[0]?.arrayBuffer();
		const admitted = await a;
		expect(admitted.status).toBe(200);
		await holders[1]?.arrayBuffer();
		// A is still at the origin: a second request with key a must not pass key a's limit of 1.
		const b = await g.fetch("/request?delay=0", { headers: { "x-key": "a" } });
		expect(b.status).toBe(429);
		await b.arrayBuffer();
		await admitted.arrayBuffer();
		expect((await keyA.status()).counters.reaped).toBe(0);
	});
});

describe("tombstones and queued acquires", () => {
	const queued = { size: 5, maxWaitMs: 2_000 };
	let objects = 0;
	const fresh = () => env.GAUGE.getByName(`tombstone-queue-${++objects}`);

	it("refuses a queued acquire whose lease id was already released, instead of queueing it", async () => {
		const stub = fresh();
		expect(await stub.acquire({ leaseId: "holder", limit: 1, maxHoldMs: HOLD })).toMatchObject({ ok: true });
		// The release of a lost acquire arrives first and leaves a tombstone.
		await stub.release("late", 1_000);
		expect(await stub.acquire({ leaseId: "late", limit: 1, maxHoldMs: HOLD, queue: queued })).toMatchObject({
			ok: false,
			reason: "released",
		});
		expect((await stub.status()).queued).toBe(0);
	});

	it("a release for a lease id still waiting in the queue takes it out (the caller's acquire failed)", async () => {
		const stub = fresh();
		await stub.acquire({ leaseId: "holder", limit: 1, maxHoldMs: HOLD });
		const waiting = stub.acquire({ leaseId: "lost", limit: 1, maxHoldMs: HOLD, queue: queued });
		await eventually(async () => expect((await stub.status()).queued).toBe(1));
		await stub.release("lost", 1_000);
		// The tombstone is gone by the time a permit frees: only leaving the queue keeps the permit from a gone caller.
		await runInDurableObject(stub, (instance: Gauge) => {
			const later = Date.now() + 1_500;
			instance.clock = () => later;
		});
		await stub.release("holder", HOLD);
		expect(await waiting).toMatchObject({ ok: false });
		const status = await stub.status();
		expect(status.inFlight).toBe(0);
		expect(status.queued).toBe(0);
	});
});
