// Busy isolates under pressure, against a real Gauge object: pressure is others' refusals, never one's own; an
// isolate whose own demand runs its block dry keeps its fair share of the limit instead of handing each freed
// permit back; one with idle spares gives them back at once.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BlockSettings, Plan } from "../src/isolate/block-pool.ts";
import { BlockPool } from "../src/isolate/block-pool.ts";
import type { Gauge } from "../src/object/durable-object.ts";

const SETTINGS: BlockSettings = { max: 8, returnAfterMs: 100, windowMs: 1_000 };
const LIMIT = 8;
const spec = { limit: LIMIT, maxHoldMs: 5_000, dryRun: false, queue: null };

type Stub = DurableObjectStub<Gauge>;
const gauge = (name: string): Stub => env.GAUGE.getByName(name);

async function checkIn(stub: Stub, pool: BlockPool, plan: Plan | null): Promise<void> {
	if (!plan) throw new Error("no check-in planned");
	pool.answered(plan, await stub.checkIn(plan.msg));
}

/** Fills a pool to `n` in use, checking in whenever it is dry (as acquireFromBlock does); returns how many it got. */
async function fill(stub: Stub, pool: BlockPool, n: number, now: number): Promise<number> {
	let got = 0;
	for (let i = 0; i < n; i++) {
		if (pool.take(now)) {
			got++;
			continue;
		}
		pool.noteDry(now);
		const plan = pool.plan(now, spec, { need: true });
		if (!plan) break;
		await checkIn(stub, pool, plan);
		if (pool.take(now)) got++;
	}
	return got;
}

describe("blocks under pressure", () => {
	it("a lone busy isolate's own refusals are no pressure on it: it keeps its block", async () => {
		const stub = gauge(`share-${crypto.randomUUID()}`);
		const a = new BlockPool(SETTINGS);
		const now = Date.now();
		expect(await fill(stub, a, LIMIT + 2, now)).toBe(LIMIT);
		// A's own overflow was refused; one of its requests ends and the permit is spare for a moment.
		const block = a.current;
		if (!block) throw new Error("no block");
		a.put(block, 10, now + 1);
		expect(a.pressure).toBe(false);
		expect(a.checkInDue(now + 1)).toBe(false);
		expect(a.take(now + 2)).toBe(block);
	});

	it("two busy isolates under each other's pressure keep their fair shares; a third one refused shrinks them to a third", async () => {
		const stub = gauge(`share-${crypto.randomUUID()}`);
		// Each isolate's block holds at most half the limit.
		const half: BlockSettings = { ...SETTINGS, max: LIMIT / 2 };
		const [a, b, c] = [new BlockPool(half), new BlockPool(half), new BlockPool(half)];
		const now = Date.now();
		expect(await fill(stub, a, LIMIT, now)).toBe(LIMIT / 2);
		expect(await fill(stub, b, LIMIT, now)).toBe(LIMIT / 2);
		// B's demand beyond its full block asks for a single permit, naming its pool: refused, pressure on A.
		expect((await stub.acquire({ leaseId: crypto.randomUUID(), limit: LIMIT, maxHoldMs: 5_000, isolate: b.id })).ok).toBe(false);
		a.noteDry(now + 1);
		await checkIn(stub, a, a.plan(now + 1, spec, { need: false }));
		const blockA = a.current;
		if (!blockA) throw new Error("no block");
		expect(a.pressure).toBe(true);
		expect(a.share).toBe(LIMIT / 2);
		// Busy, at its share: a permit that frees is kept for A's next request, not passed back and forth.
		a.put(blockA, 10, now + 2);
		expect(a.checkInDue(now + 2)).toBe(false);
		expect(a.take(now + 3)).toBe(blockA);
		// A third isolate is refused: the fair share is now a third of the limit.
		expect(await fill(stub, c, 1, now + 4)).toBe(0);
		a.noteDry(now + 5);
		await checkIn(stub, a, a.plan(now + 5, spec, { need: false }));
		expect(a.share).toBe(Math.floor(LIMIT / 3));
		// A's block comes down to its share as its requests end (never below what is in use).
		expect(blockA.count).toBe(LIMIT / 2);
		while (blockA.inUse > 0) a.put(blockA, 10, now + 6);
		expect(a.checkInDue(now + 6)).toBe(true);
		await checkIn(stub, a, a.plan(now + 6, spec, { need: false }));
		expect(blockA.count).toBe(Math.floor(LIMIT / 3));
		expect((await stub.status()).inFlight).toBeLessThanOrEqual(LIMIT);
	});

	it("an isolate with idle spares gives them all back under pressure", async () => {
		const stub = gauge(`share-${crypto.randomUUID()}`);
		const [a, b] = [new BlockPool(SETTINGS), new BlockPool(SETTINGS)];
		const now = Date.now();
		expect(await fill(stub, a, LIMIT, now)).toBe(LIMIT);
		const blockA = a.current;
		if (!blockA) throw new Error("no block");
		for (let i = 0; i < LIMIT - 1; i++) a.put(blockA, 10, now + 1);
		expect(await fill(stub, b, 1, now + 2)).toBe(0);
		// Not busy (no request found A dry for returnAfterMs): the next check-in keeps only what is in use.
		const later = now + 2 + SETTINGS.returnAfterMs;
		await checkIn(stub, a, a.plan(later, spec, { need: false }));
		expect(a.pressure).toBe(true);
		expect(a.checkInDue(later)).toBe(true);
		await checkIn(stub, a, a.plan(later, spec, { need: false }));
		expect(a.current?.count).toBe(1);
		expect(await fill(stub, b, 1, later + 1)).toBe(1);
	});
});
