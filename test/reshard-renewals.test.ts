// The layout record raises a shard's share once "no lease of the replaced shares can still be out" (COPY_TTL_MS +
// the longest lease). A held WebSocket renews its lease for as long as it is open (and old isolates keep their
// sockets after a deploy), so each renewal must tell the record its layout is still in use; otherwise the new
// layout's shares plus the renewed leases on a removed shard pass the route's limit.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Gauge } from "../src/object/durable-object.ts";
import type { Layout } from "../src/object/layout.ts";

const LEASE_MS = 1_000;
const A: Layout = { total: 6, shards: 3, leaseMs: LEASE_MS };
const B: Layout = { total: 6, shards: 2, leaseMs: LEASE_MS };

/** A route's three shard objects on one clock the test moves, and an acquire through shard i under a layout. */
function threeShards(prefix: string, leaseMs: number) {
	const record = `route:${prefix}-${crypto.randomUUID()}`;
	const shard = (i: number) => env.GAUGE.getByName(i === 0 ? record : `${record}#${i}`);
	const setClock = async (t: number) => {
		for (const i of [0, 1, 2]) {
			await runInDurableObject(shard(i), (g: Gauge) => {
				g.clock = () => t;
			});
		}
	};
	const ask = (i: number, layout: Layout, leaseId = crypto.randomUUID()) =>
		shard(i).acquire({ leaseId, limit: 2, maxHoldMs: leaseMs, shard: { index: i, record, layout } });
	return { record, shard, setClock, ask };
}

describe("reshard 3 -> 2 shards with WebSocket leases renewed on the removed shard", () => {
	it("never has more than the limit (6) counted across all shards", async () => {
		const { record, shard, setClock, ask } = threeShards("rsws", LEASE_MS);
		const t0 = Date.now();

		await setClock(t0);
		await ask(0, A);
		// Two sockets held through shard #2 under the old layout (an old isolate keeps them after the deploy).
		const sockets = [crypto.randomUUID(), crypto.randomUUID()];
		for (const id of sockets) expect((await ask(2, A, id)).ok).toBe(true);

		// The new config runs; the old isolate's sockets renew every LEASE_MS / 3 while the new one serves traffic.
		for (let t = t0 + 300; t <= t0 + 90_000; t += 300) {
			await setClock(t);
			for (const id of sockets) expect(await shard(2).renew(id, LEASE_MS, { index: 2, record, layout: A })).toBe(true);
			if ((t - t0) % 3_000 === 0) {
				for (const i of [0, 1]) {
					const id = crypto.randomUUID();
					if ((await ask(i, B, id)).ok) await shard(i).release(id, LEASE_MS);
				}
			}
		}
		const granted = [];
		for (const i of [0, 1]) for (let k = 0; k < 3; k++) granted.push((await ask(i, B)).ok);
		const counted = (await shard(2).status()).inFlight + granted.filter(Boolean).length;
		// Before renewals carried their shard: 2 renewed on #2 + 3 + 3 = 8.
		expect(counted).toBeLessThanOrEqual(6);
	}, 60_000);
});

describe("reshard 3 -> 2 shards with sockets whose leases outlive the layout's retirement (maxHoldMs 240 s)", () => {
	it("keeps the old layout in force while its sockets renew every maxHoldMs / 3, never more than 6 counted", async () => {
		const LONG_MS = 240_000;
		const A3: Layout = { total: 6, shards: 3, leaseMs: LONG_MS };
		const B2: Layout = { total: 6, shards: 2, leaseMs: LONG_MS };
		const { record, shard, setClock, ask } = threeShards("rsws-long", LONG_MS);
		const t0 = Date.now();
		await setClock(t0);
		await ask(0, A3);
		const sockets = [crypto.randomUUID(), crypto.randomUUID()];
		for (const id of sockets) expect((await ask(2, A3, id)).ok).toBe(true);
		// The new config serves traffic every 4 s; the old isolate's sockets renew every 80 s, over 5 minutes: the
		// old layout goes unseen for longer than RETIRE_AFTER_MS (60 s) between two renewals.
		for (let t = t0 + 4_000; t <= t0 + 308_000; t += 4_000) {
			await setClock(t);
			if ((t - t0) % 80_000 === 0)
				for (const id of sockets) expect(await shard(2).renew(id, LONG_MS, { index: 2, record, layout: A3 })).toBe(true);
			for (const i of [0, 1]) {
				const id = crypto.randomUUID();
				if ((await ask(i, B2, id)).ok) await shard(i).release(id, LONG_MS);
			}
		}
		const granted = [];
		for (const i of [0, 1]) for (let k = 0; k < 3; k++) granted.push((await ask(i, B2)).ok);
		const counted = (await shard(2).status()).inFlight + granted.filter(Boolean).length;
		// The sockets are still open: their next renewal succeeds.
		await setClock(t0 + 320_000);
		for (const id of sockets) expect(await shard(2).renew(id, LONG_MS, { index: 2, record, layout: A3 })).toBe(true);
		// 6c1c01a: 2 sockets on #2 + 3 + 3 = 8.
		expect(counted).toBeLessThanOrEqual(6);
	}, 60_000);
});
