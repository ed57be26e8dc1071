// How the adaptive limit behaves against an origin with a capacity (simulated: C workers, D ms each, the rest
// waiting inside it), and its rules on single windows. The e2e test runs the same story on the local runtime.
import { describe, expect, it } from "vitest";
import { VegasLimit } from "../src/adaptive/vegas-limit.ts";
import type { SimOptions, SimResult } from "./helpers/capacity-sim.ts";
import { simulate } from "./helpers/capacity-sim.ts";
import { fixed, settings, win, windowedVegas } from "./helpers/vegas.ts";

const C = 10;
const D = 100;

function run(extra: Partial<SimOptions> = {}): SimResult {
	return simulate({ limit: windowedVegas().limit, clients: 50, durationMs: 10_000, capacity: () => C, workMs: D, ...extra });
}

/** Admitted (not dropped) requests released in [from, to): their count per second and median hold. */
function admitted(r: SimResult, from: number, to: number): { perSecond: number; p50: number } {
	const ms = r.admitted.filter((a) => a.ok && a.t >= from && a.t < to).map((a) => a.ms);
	ms.sort((a, b) => a - b);
	return { perSecond: (ms.length * 1000) / (to - from), p50: ms[ms.length >> 1] ?? Number.NaN };
}

/** When the limit first satisfied `ok` at or after `from`; Infinity if never. */
function firstTime(r: SimResult, from: number, ok: (limit: number) => boolean): number {
	return r.trace.find((p) => p.t >= from && ok(p.limit))?.t ?? Number.POSITIVE_INFINITY;
}

describe("VegasLimit against an origin with C = 10 workers of D = 100 ms, 50 clients as fast as they can", () => {
	it("Should bring the origin's concurrency into [0.8 C, 2 C] within 5 s and keep p50 <= 2 D at >= 85 % of C / D", () => {
		const r = run();
		const steady = r.trace.filter((p) => p.t >= 5_000);
		const inside = steady.filter((p) => p.origin >= 0.8 * C && p.origin <= 2 * C).length / steady.length;
		expect(inside).toBeGreaterThanOrEqual(0.9);
		const { perSecond, p50 } = admitted(r, 5_000, 10_000);
		expect(p50).toBeLessThanOrEqual(2 * D);
		expect(perSecond).toBeGreaterThanOrEqual((0.85 * C * 1000) / D);
	});

	it("Should leave the origin queueing with a fixed limit of 10 C (p50 near 5 D), which the adaptive limit avoids", () => {
		const high = run({ limit: fixed(10 * C) });
		expect(admitted(high, 5_000, 10_000).p50).toBeGreaterThanOrEqual(4 * D);
	});

	it("Should follow the capacity down (<= 2 x 5 within 5 s) and back up (>= 8 within 10 s)", () => {
		const r = run({ durationMs: 30_000, capacity: (t) => (t >= 10_000 && t < 20_000 ? 5 : C) });
		expect(firstTime(r, 10_000, (l) => l <= 10)).toBeLessThanOrEqual(15_000);
		// Once down, it stays down while the capacity is low.
		expect(r.trace.filter((p) => p.t >= 15_000 && p.t < 20_000).every((p) => p.limit <= 10)).toBe(true);
		expect(firstTime(r, 20_000, (l) => l >= 8)).toBeLessThanOrEqual(30_000);
	});

	it("Should lower the limit while the origin answers a share of requests 503, and recover when it stops", () => {
		const r = run({ durationMs: 25_000, errorShare: (t) => (t >= 10_000 && t < 15_000 ? 0.3 : 0) });
		const before = r.trace.find((p) => p.t === 10_000)?.limit ?? 0;
		expect(firstTime(r, 10_000, (l) => l <= before / 2)).toBeLessThanOrEqual(15_000);
		expect(firstTime(r, 15_000, (l) => l >= 0.8 * C)).toBeLessThanOrEqual(25_000);
	});

	it("Should stay within [min, max] however the origin behaves", () => {
		const { limit } = windowedVegas({ min: 3, max: 12 });
		const r = simulate({
			limit,
			clients: 50,
			durationMs: 20_000,
			capacity: (t) => (t < 5_000 ? 40 : t < 10_000 ? 1 : 20),
			workMs: D,
			errorShare: (t) => (t >= 12_000 && t < 14_000 ? 0.9 : 0),
		});
		expect(r.trace.every((p) => p.limit >= 3 && p.limit <= 12)).toBe(true);
		expect(Math.max(...r.trace.map((p) => p.limit))).toBe(12);
		expect(Math.min(...r.trace.map((p) => p.limit))).toBe(3);
	});
});

describe("VegasLimit: single windows", () => {
	it("Should pin the limit to min until the first baseline is measured, then start from initial", () => {
		const v = new VegasLimit(settings({ min: 2, initial: 6 }));
		expect(v.limit).toBe(2);
		expect(v.phase).toBe("probe");
		expect(win(v, 0, 100, 2, false)).toBe(6);
		expect(v.view.baselineMs).toBe(100);
	});

	it("Should measure the baseline again every probeIntervalMs, pinned to min for one window, then resume", () => {
		const v = new VegasLimit(settings({ min: 1, initial: 20, probeIntervalMs: 10_000 }));
		win(v, 0, 100, 1, false);
		// A queue of ceil(20 x 0.23) = 5 ends slow start, and is shed at once: 20 - 5 + 1.
		expect(win(v, 5_000, 130, 20, false)).toBe(16);
		expect(win(v, 10_000, 100, 16, false)).toBe(1); // the probe pins it to min...
		expect(v.learned).toBeGreaterThan(1);
		expect(win(v, 10_300, 150, 1, false)).toBe(v.learned); // ...and the slower origin is the new baseline
		expect(v.view.baselineMs).toBe(150);
	});

	it("Should not grow a limit the traffic does not fill (app-limited)", () => {
		const v = new VegasLimit(settings({ initial: 20 }));
		win(v, 0, 100, 1, false);
		expect(win(v, 300, 100, 9, false)).toBe(20);
		expect(win(v, 600, 100, 10, false)).toBeGreaterThan(20);
	});

	it("Should take a new lowest latency as the baseline and grow on it", () => {
		const v = new VegasLimit(settings({ initial: 10 }));
		win(v, 0, 100, 1, false);
		expect(win(v, 300, 80, 10, false)).toBeGreaterThan(10);
		expect(v.view.baselineMs).toBe(80);
	});
});
