// The object's books on blocks: leaks counted in permits, refusals counted only when they are refusals, and a
// bounded memory of who was refused. Through the real Durable Object (RPC), each object named for its test.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Gauge } from "../src/object/durable-object.ts";
import { emptyReport } from "../src/protocol.ts";
import { checkIn as block } from "./helpers/check-in.ts";

const setClock = (stub: DurableObjectStub<Gauge>, t: number) =>
	runInDurableObject(stub, (g: Gauge) => {
		g.clock = () => t;
	});

describe("the object's books on blocks", () => {
	it("a dead isolate's block is reaped as the permits it had in use, so admitted − released − reaped = in flight", async () => {
		const stub = env.GAUGE.getByName(`ledger-reaped-${crypto.randomUUID()}`);
		const t0 = Date.now();
		await setClock(stub, t0);
		expect((await stub.checkIn(block("x", 6))).count).toBe(6);
		// It admits 6 under the block and says so on its renewal; then the isolate is evicted.
		await stub.checkIn(block("x", 6, { need: false, inUse: 6, report: { ...emptyReport(), admitted: 6 } }));
		// Another isolate's block of 4, idle when its isolate was evicted: it leaked nothing.
		expect((await stub.checkIn(block("y", 4, { need: false }))).count).toBe(4);
		await setClock(stub, t0 + 60_000);
		const s = await stub.status();
		expect(s.inFlight).toBe(0);
		expect(s.counters.reaped).toBe(6); // 6c1c01a: 2, one per lease row
		expect(s.counters.admitted - s.counters.released - s.counters.reaped).toBe(s.inFlight);
	});

	it("a refusal on a route held in long-lived blocks says when a block permit is likely to free, not 0", async () => {
		const stub = env.GAUGE.getByName(`ledger-retry-${crypto.randomUUID()}`);
		const t0 = Date.now();
		await setClock(stub, t0);
		// An isolate's block of 10, all in use, renewed for a minute; its requests take about 2 s each.
		const holds = { ...emptyReport(), holdsMs: Array(20).fill(2_000), released: 20, admitted: 30 };
		expect((await stub.checkIn(block("x", 10, { need: false }))).count).toBe(10);
		for (let t = t0 + 500; t <= t0 + 60_000; t += 500) {
			await setClock(stub, t);
			await stub.checkIn(block("x", 10, { need: false, inUse: 10, report: t === t0 + 500 ? holds : null }));
		}
		const refused = await stub.acquire({ leaseId: "r", limit: 10, maxHoldMs: 5_000 });
		if (refused.ok) throw new Error("granted");
		// Of 10 permits in use, each held about 2 s, the first frees in about 2 s / 11 (6c1c01a: 0, the block's start
		// a minute ago).
		expect(refused.retryAfterMs).toBeGreaterThan(0);
		expect(refused.retryAfterMs).toBeLessThanOrEqual(2_000);
	});

	it("a tentative refusal (another shard follows) is neither pressure nor a refusal made while blocks held spares", async () => {
		const stub = env.GAUGE.getByName(`ledger-tentative-${crypto.randomUUID()}`);
		expect((await stub.checkIn(block("x", 4, { need: false, limit: 4, isolate: "holder" }))).count).toBe(4);
		for (let i = 0; i < 5; i++) {
			const r = await stub.acquire({ leaseId: `t${i}`, limit: 4, maxHoldMs: 5_000, tentative: true, isolate: "other" });
			expect(r.ok).toBe(false);
		}
		const s = await stub.status();
		expect(s.counters.refused).toBe(0);
		expect(s.blocks.refusedWithSpares).toBe(0); // 6c1c01a: 5
		// The holder is told of no pressure: nobody was refused.
		const renewal = await stub.checkIn(block("x", 4, { need: false, limit: 4, isolate: "holder" }));
		expect(renewal.pressure.refusing).toBe(false);
		// The request's last try is a refusal: counted, and pressure on the holder.
		expect((await stub.acquire({ leaseId: "last", limit: 4, maxHoldMs: 5_000, isolate: "other" })).ok).toBe(false);
		const after = await stub.status();
		expect(after.counters.refused).toBe(1);
		expect(after.blocks.refusedWithSpares).toBe(1);
		expect((await stub.checkIn(block("x", 4, { need: false, limit: 4, isolate: "holder" }))).pressure.refusing).toBe(true);
	});

	it("remembers refused isolates only while their refusals are pressure, however many and however long no block checks in", async () => {
		const stub = env.GAUGE.getByName(`ledger-refusers-${crypto.randomUUID()}`);
		const t0 = Date.now();
		await setClock(stub, t0);
		expect((await stub.acquire({ leaseId: "ws", limit: 1, maxHoldMs: 3_600_000 })).ok).toBe(true);
		// A WebSocket route: single acquires from 300 isolates, one every 100 ms, all refused; no block checks in.
		for (let i = 0; i < 300; i++) {
			await setClock(stub, t0 + i * 100);
			await stub.acquire({ leaseId: `l${i}`, limit: 1, maxHoldMs: 3_600_000, isolate: `pool-${i}` });
		}
		const remembered = await runInDurableObject(stub, (g: Gauge) => {
			const refusals = (g as unknown as { refusals: { size?: number; last?: Map<unknown, number> } }).refusals;
			return refusals.size ?? refusals.last?.size;
		});
		// Within one PRESSURE_MS (1 s) at most 10 of them refused; pruning waits for 64 entries (6c1c01a: 300).
		expect(remembered).toBeLessThanOrEqual(64);
		expect((await stub.status()).counters.refused).toBe(300);
	});
});
