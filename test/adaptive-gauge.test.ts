// An adaptive route's Durable Object: samples on releases move its limit, which acquire applies exactly as a fixed
// one; a runtime override pins it; storage keeps it across restarts; the Worker sends one sample per exchange.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ExchangeSample, Outcome } from "../src/adaptive/sample.ts";
import type { AdaptiveSettings } from "../src/adaptive/settings.ts";
import type { Gauge } from "../src/object/durable-object.ts";
import { gate } from "./helpers/gate.ts";

const HOLD = 60_000;
const SETTINGS: AdaptiveSettings = { min: 2, max: 40, initial: 8, windowMs: 100, probeIntervalMs: 60_000, alpha: 2, beta: 4, backoff: 0.9 };

let objects = 0;
type Stub = DurableObjectStub<Gauge>;
const names = new WeakMap<Stub, string>();
const fresh = (): Stub => {
	const name = `adaptive-test-${++objects}`;
	const stub = env.GAUGE.getByName(name);
	names.set(stub, name);
	return stub;
};
/** As the Worker asks a route's only shard: the object is its own layout record (shard 0). */
const shardOf = (stub: Stub, settings: AdaptiveSettings) => ({
	index: 0,
	record: names.get(stub) ?? "",
	layout: { total: settings.max, shards: 1, leaseMs: HOLD },
});

async function at(stub: Stub, t: number): Promise<void> {
	await runInDurableObject(stub, (instance: Gauge) => {
		instance.clock = () => t;
	});
}

/** `n` exchanges admitted together at `t`, answered `rtt` ms later with `outcome`; returns how many were admitted. */
async function batch(stub: Stub, n: number, t: number, rtt: number, outcome: Outcome = "ok", settings = SETTINGS): Promise<number> {
	await at(stub, t);
	const ids = Array.from({ length: n }, () => crypto.randomUUID());
	const granted: string[] = [];
	for (const leaseId of ids) {
		if ((await stub.acquire({ leaseId, limit: settings.max, maxHoldMs: HOLD, adaptive: settings, shard: shardOf(stub, settings) })).ok)
			granted.push(leaseId);
	}
	await at(stub, t + rtt);
	const sample: ExchangeSample = { outcome, rttMs: rtt, ageMs: rtt };
	for (const id of granted) await stub.release(id, HOLD, 0, sample);
	return granted.length;
}

/**
 * Ends the first probe (min = 2): one exchange opens the window, then five that start inside it are measured
 * (baseline = rtt), the last of them closing it. Returns when, with nothing left over for the next window.
 */
async function learnBaseline(stub: Stub, rtt = 100, settings = SETTINGS): Promise<number> {
	let t = 0;
	for (const n of [1, 2, 2, 1]) {
		await batch(stub, n, t, rtt, "ok", settings);
		t += rtt;
	}
	return t;
}

afterEach(() => {
	vi.restoreAllMocks();
});

describe("adaptive limit in the route's Durable Object", () => {
	it("Should hold the limit at min until the baseline is measured, then start from initial and shrink as latency rises", async () => {
		const stub = fresh();
		expect(await batch(stub, 3, 0, 100)).toBe(2);
		const t = await learnBaseline(stub);
		expect((await stub.status()).adaptive).toMatchObject({ limit: 8, phase: "slow-start", baselineMs: 100 });

		// All 8 permits busy, answers four times slower. The window closes on its fifth answer: 5 answers in 400 ms
		// at 400 ms each, so the origin held 5 (Little's law), ceil(5 x 0.75) = 4 of them waiting. Slow start ends
		// and sheds that queue at once: 8 - 4 + 1.
		expect(await batch(stub, 10, t, 400)).toBe(8);
		expect((await stub.status()).adaptive).toMatchObject({ limit: 5, learned: 5, phase: "avoidance", recentMs: 400, queue: 4 });
		await at(stub, t + 1_000);
		const results = await Promise.all(
			Array.from({ length: 8 }, (_, i) => stub.acquire({ leaseId: `x${i}`, limit: 40, maxHoldMs: HOLD, adaptive: SETTINGS })),
		);
		expect(results.filter((r) => r.ok)).toHaveLength(5);
		expect(results.find((r) => !r.ok)).toMatchObject({ reason: "full", limit: 5 });
	});

	it("Should lower the limit by the backoff on dropped exchanges (overload, gateway, timeout, reset), not on a plain 5xx", async () => {
		const settings = { ...SETTINGS, initial: 20 };
		const stub = fresh();
		let t = await learnBaseline(stub, 100, settings);
		for (const outcome of ["error", "error"] as const) {
			await batch(stub, 20, t, 100, outcome, settings);
			t += 100;
		}
		expect((await stub.status()).adaptive).toMatchObject({ learned: 20, outcomes: expect.objectContaining({ error: 40 }) });
		await batch(stub, 20, t, 100, "overload", settings);
		expect((await stub.status()).adaptive?.learned).toBe(18); // min(20 x 0.9, 20 - 1)
	});

	it("Should let a runtime limit pin it, and hand it back when cleared", async () => {
		const stub = fresh();
		const t = await learnBaseline(stub);
		await stub.setLimit(3);
		expect(await batch(stub, 10, t, 100)).toBe(3);
		expect((await stub.status()).adaptive?.limit).toBe(8);
		await stub.setLimit(null);
		expect(await batch(stub, 10, t + 200, 100)).toBe(8);
	});

	it("Should keep what it learned across a restart", async () => {
		const stub = fresh();
		const t = await learnBaseline(stub);
		await batch(stub, 10, t, 400);
		await evictDurableObject(stub);
		expect((await stub.status(SETTINGS)).adaptive).toMatchObject({ limit: 5, phase: "avoidance", baselineMs: 100 });
	});

	it("Should log one line when the learned limit moves by more than a fifth", async () => {
		const lines: { event: string; from?: number; to?: number }[] = [];
		vi.spyOn(console, "log").mockImplementation((line: unknown) => lines.push(JSON.parse(String(line))));
		const stub = fresh();
		const t = await learnBaseline(stub);
		const adapted = () => lines.filter((l) => l.event === "limit_adapted");
		await batch(stub, 10, t, 400); // 8 -> 5 (as above): more than a fifth
		expect(adapted()).toEqual([expect.objectContaining({ from: 8, to: 5 })]);
		await batch(stub, 10, t + 2_000, 100, "timeout"); // 5 -> 4: a fifth exactly, no line
		expect(adapted()).toHaveLength(1);
		// 4 -> 3: two fifths below the 5 last logged (two batches: a window needs five samples, and 4 are admitted).
		await batch(stub, 10, t + 4_000, 100, "timeout");
		await batch(stub, 10, t + 4_200, 100, "timeout");
		expect(adapted()).toEqual([expect.objectContaining({ from: 8, to: 5 }), expect.objectContaining({ from: 5, to: 3 })]);
	});

	it("Should keep what it learned when a fixed config's request comes in between (a rollout)", async () => {
		const stub = fresh();
		const t = await learnBaseline(stub);
		expect(await batch(stub, 10, t, 400)).toBe(8);
		expect((await stub.status()).adaptive).toMatchObject({ limit: 5, phase: "avoidance" });
		// An isolate still running the old, fixed config asks without settings...
		await stub.acquire({ leaseId: "old-config", limit: 40, maxHoldMs: HOLD });
		await stub.release("old-config", HOLD);
		// ...and the adaptive config's next request finds the learning as it was (6c1c01a: back to slow start, 8).
		await at(stub, t + 1_000);
		const results = await Promise.all(
			Array.from({ length: 8 }, (_, i) => stub.acquire({ leaseId: `y${i}`, limit: 40, maxHoldMs: HOLD, adaptive: SETTINGS })),
		);
		expect(results.filter((r) => r.ok)).toHaveLength(5);
		expect((await stub.status()).adaptive).toMatchObject({ limit: 5, phase: "avoidance" });
	});

	it("Should learn nothing on a fixed route's object", async () => {
		const stub = fresh();
		await stub.acquire({ leaseId: "a", limit: 3, maxHoldMs: HOLD });
		await stub.release("a", HOLD, 0, { outcome: "ok", rttMs: 5, ageMs: 5 });
		expect((await stub.status()).adaptive).toBeNull();
	});
});

describe("adaptive route through the Worker", () => {
	it("Should send one sample per exchange with the release, classified by how it ended", async () => {
		const g = gate({ routes: [{ name: "a", path: "/*", adaptive: { min: 5, max: 10 } }] });
		for (const path of ["/work?delay=0", "/status/503", "/status/502", "/status/500", "/reset", "/status/404"]) {
			await (await g.fetch(path)).arrayBuffer();
		}
		await g.settle();
		const status = await g.status("a");
		expect(status.adaptive?.outcomes).toEqual({ ok: 2, overload: 1, gateway: 1, error: 1, timeout: 0, reset: 1 });
		expect(status.inFlight).toBe(0);
	});

	it("Should report the learned limit as the effective one, and hand it back after a runtime override", async () => {
		const token = "adaptive-token";
		const g = gate({ routes: [{ name: "a", path: "/*", adaptive: { min: 3, max: 10 } }] }, { ADMIN_TOKEN: token });
		const auth = { authorization: `Bearer ${token}` };
		const name = g.routeNames()[0];
		const report = async () => {
			const { routes } = (await (await g.fetch("/__gauge/status", { headers: auth })).json()) as {
				routes: { name: string; limit: { configured: number; effective: number; adaptive: { min: number; max: number } | null } }[];
			};
			return routes.find((r) => r.name === name)?.limit;
		};
		expect(await report()).toMatchObject({ configured: 10, effective: 3, adaptive: { min: 3, max: 10 } });
		await g.fetch(`/__gauge/routes/${name}/limit`, { method: "PUT", headers: auth, body: '{"limit":6}' });
		expect(await report()).toMatchObject({ effective: 6 });
		const cleared = await g.fetch(`/__gauge/routes/${name}/limit`, { method: "DELETE", headers: auth });
		expect(await cleared.json()).toMatchObject({ limit: { configured: 10, effective: 3, override: null } });
	});
});
