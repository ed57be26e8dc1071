import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SqlLeaseStore } from "../src/object/lease-store.ts";
import { emptyReport } from "../src/protocol.ts";
import { checkIn } from "./helpers/check-in.ts";

describe("the Durable Object's side of blocks", () => {
	it("grants blocks and single leases that together never pass the limit; in flight is the sum of counts", async () => {
		const stub = env.GAUGE.getByName(`blocks-${crypto.randomUUID()}`);
		expect((await stub.checkIn(checkIn("a", 6))).count).toBe(6);
		expect((await stub.acquire({ leaseId: "single", limit: 10, maxHoldMs: 5_000 })).ok).toBe(true);
		// Only 3 are left for b, whatever it asks.
		const b = await stub.checkIn(checkIn("b", 8));
		expect(b.count).toBe(3);
		expect(b.inFlight).toBe(10);
		expect((await stub.status()).inFlight).toBe(10);
		// Nothing left: a refusal, counted. It is pressure on the other isolates (they give back spares), not on the
		// one refused (it has none to give).
		const c = await stub.checkIn(checkIn("c", 1, { isolate: "isolate-c" }));
		expect(c.count).toBe(0);
		expect(c.pressure.refusing).toBe(false);
		expect((await stub.status()).counters.refused).toBe(1);
		expect((await stub.checkIn(checkIn("c", 0, { need: false, isolate: "isolate-c" }))).pressure.refusing).toBe(false);
		expect((await stub.checkIn(checkIn("b", 3, { need: false, inUse: 3, isolate: "isolate-b" }))).pressure.refusing).toBe(true);
		// a gives back what it does not use: the permits are free again; a dropped block cannot be revived.
		expect((await stub.checkIn(checkIn("a", 2, { need: false }))).count).toBe(2);
		expect((await stub.checkIn(checkIn("b", 0, { need: false }))).count).toBe(0);
		expect((await stub.checkIn(checkIn("b", 5))).alive).toBe(false);
		expect((await stub.status()).inFlight).toBe(3);
	});

	it("a lowered runtime limit recalls blocks (pressure.recall) and grows none", async () => {
		// As the Worker asks a route's only shard: the object is its own layout record, where the runtime limit lives.
		const record = `blocks-${crypto.randomUUID()}`;
		const stub = env.GAUGE.getByName(record);
		const shard = { index: 0, record, layout: { total: 10, shards: 1, leaseMs: 5_000 } };
		await stub.checkIn(checkIn("a", 8, { shard }));
		await stub.setLimit(4);
		const answer = await stub.checkIn(checkIn("a", 8, { need: false, inUse: 5, shard }));
		expect(answer.count).toBe(8);
		expect(answer.limit).toBe(4);
		expect(answer.pressure.recall).toBe(true);
		expect((await stub.checkIn(checkIn("a", 5, { need: false, inUse: 5, shard }))).count).toBe(5);
		// Another block gets nothing while the count is above the lowered limit.
		expect((await stub.checkIn(checkIn("b", 2, { shard }))).count).toBe(0);
	});

	it("counts what isolates report once: admissions, releases, holds, local refusals, errors, fail-open", async () => {
		const stub = env.GAUGE.getByName(`blocks-${crypto.randomUUID()}`);
		await stub.checkIn(checkIn("a", 2, { report: { ...emptyReport(), admitted: 3, released: 2, holdsMs: [5, 40] } }));
		await stub.report({ ...emptyReport(), localRefused: 7, gaugeErrors: 1, failOpen: 1 });
		const status = await stub.status();
		expect(status.counters.admitted).toBe(3);
		expect(status.counters.released).toBe(2);
		expect(status.holds.count).toBe(2);
		expect(status.reported).toEqual({ localRefused: 7, gaugeErrors: 1, failOpen: 1, keyRefused: 0 });
	});

	it("a lease table made before blocks gets its count column (every old lease counts 1)", async () => {
		const stub = env.GAUGE.getByName(`blocks-${crypto.randomUUID()}`);
		await runInDurableObject(stub, (_instance, state) => {
			const sql = state.storage.sql;
			sql.exec("DROP TABLE IF EXISTS leases");
			sql.exec(
				"CREATE TABLE leases (id TEXT PRIMARY KEY, acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0, holder TEXT) WITHOUT ROWID",
			);
			sql.exec("INSERT INTO leases VALUES ('old', 0, 9999999999999, 0, NULL)");
			const store = new SqlLeaseStore(sql);
			expect(store.countLive()).toBe(1);
			store.insert({ id: "block", acquiredAt: 0, expiresAt: 9_999_999_999_999, state: "live", holder: null, count: 4 });
			expect(store.countLive()).toBe(5);
			expect(store.get("block")?.count).toBe(4);
		});
	});

	it("reports what blocks hold and leave spare, and counts refusals made while blocks held spares", async () => {
		const stub = env.GAUGE.getByName(`blocks-${crypto.randomUUID()}`);
		await stub.checkIn(checkIn("a", 6, { inUse: 0 }));
		await stub.checkIn(checkIn("a", 6, { need: false, inUse: 2 }));
		expect((await stub.status()).blocks).toEqual({ held: 6, spare: 4, refusedWithSpares: 0 });
		// The rest of the limit goes to single leases; the next one is refused while a's block has spares.
		for (let i = 0; i < 4; i++) expect((await stub.acquire({ leaseId: `s${i}`, limit: 10, maxHoldMs: 5_000 })).ok).toBe(true);
		expect((await stub.acquire({ leaseId: "over", limit: 10, maxHoldMs: 5_000 })).ok).toBe(false);
		expect((await stub.status()).blocks.refusedWithSpares).toBe(1);
		// a gives its spares back: a refusal now is no longer one "with spares".
		await stub.checkIn(checkIn("a", 2, { need: false, inUse: 2 }));
		expect((await stub.status()).blocks).toMatchObject({ held: 2, spare: 0 });
		for (let i = 4; i < 8; i++) expect((await stub.acquire({ leaseId: `s${i}`, limit: 10, maxHoldMs: 5_000 })).ok).toBe(true);
		expect((await stub.acquire({ leaseId: "over-2", limit: 10, maxHoldMs: 5_000 })).ok).toBe(false);
		expect((await stub.status()).blocks.refusedWithSpares).toBe(1);
		await stub.checkIn(checkIn("a", 0, { need: false, inUse: 0 }));
		expect((await stub.status()).blocks).toMatchObject({ held: 0, spare: 0 });
	});
});
