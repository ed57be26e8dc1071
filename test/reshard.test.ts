// Changing a route's shard count: the limit holds across the change, and while old and new configs run side by
// side (a rollout), against the same Durable Objects (issue 14, item 2).
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_HINT_MS } from "../src/isolate/full-hints.ts";
import type { Gauge } from "../src/object/durable-object.ts";
import type { Gate } from "./helpers/gate.ts";
import { gate } from "./helpers/gate.ts";

const TOKEN = "reshard-token";
const route = (shards: number, limit = 6) => ({ routes: [{ name: "rs", path: "/*", limit, shards }] });

/** `n` requests at once through a gate; resolves with how many were admitted, once every body is read. */
async function burst(g: Gate, n: number, path = "/request?delay=300"): Promise<number> {
	const results = await Promise.all(Array.from({ length: n }, () => g.fetch(path)));
	await Promise.all(results.map((r) => r.arrayBuffer()));
	return results.filter((r) => r.status === 200).length;
}

/** Moves every shard's clock (and shard 0's record) ahead, as if the rollout ended long ago. */
async function later(g: Gate, shards: number, ms: number): Promise<void> {
	for (let i = 0; i < shards; i++) {
		await runInDurableObject(g.shard("rs", i), (instance: Gauge) => {
			instance.clock = () => Date.now() + ms;
		});
	}
}

describe("resharding a route", () => {
	it("old (2 shards) and new (3 shards) configs side by side never pass the limit", async () => {
		const old = gate(route(2));
		const next = gate(route(3), {}, { sameObjectsAs: old });
		const admitted = await Promise.all([burst(old, 15), burst(next, 15)]);
		expect(admitted[0] + admitted[1]).toBeLessThanOrEqual(6);
		expect((await old.origin()).peak).toBeLessThanOrEqual(6);
	});

	it("a shrink keeps counting the leases held in a removed shard", async () => {
		const old = gate(route(3));
		const held = await Promise.all(Array.from({ length: 12 }, () => old.fetch("/stream?chunks=60&interval=30")));
		expect(held.filter((r) => r.status === 200)).toHaveLength(6);
		const next = gate(route(2), {}, { sameObjectsAs: old });
		// This isolate remembers the shards as full (from the grants above) and would refuse without asking them.
		await new Promise((resolve) => setTimeout(resolve, MAX_HINT_MS + 50));
		// Shards 0 and 1 hold 2 each, shard #2 holds 2: the new config's shares (3 + 3) must not add 2 more.
		expect(await burst(next, 10, "/request?delay=0")).toBe(0);
		await Promise.all(held.map((r) => r.arrayBuffer()));
		expect((await old.origin()).peak).toBeLessThanOrEqual(6);
	});

	it("a runtime limit holds across a deploy to another shard count, and the new layout takes over once the old is gone", async () => {
		const old = gate(route(2), { ADMIN_TOKEN: TOKEN });
		expect(await burst(old, 1, "/request?delay=0")).toBe(1);
		const put = await old.fetch(`/__gauge/routes/${old.routeNames()[0]}/limit`, {
			method: "PUT",
			headers: { authorization: `Bearer ${TOKEN}` },
			body: '{"limit": 4}',
		});
		expect(put.status).toBe(200);
		const next = gate(route(3), { ADMIN_TOKEN: TOKEN }, { sameObjectsAs: old });
		const during = await Promise.all([burst(old, 10), burst(next, 10)]);
		expect(during[0] + during[1]).toBeLessThanOrEqual(4);
		// Much later, only the new config runs: its layout (3 shards) holds the runtime limit of 4, no more.
		await later(next, 3, 10 * 60_000);
		expect(await burst(next, 1, "/request?delay=0")).toBe(1);
		// This isolate remembers shard #2 as full (it had no share during the rollout); let that lapse.
		await new Promise((resolve) => setTimeout(resolve, MAX_HINT_MS + 50));
		expect(await burst(next, 20)).toBe(4);
		const status = await next.status("rs");
		expect(status.limitOverride).toBe(4);
		expect(status.layout?.shares).toEqual([2, 1, 1]);
		expect((await next.origin()).peak).toBeLessThanOrEqual(4);
	});
});
