// Properties of the adaptive limit over random histories (fast-check): bounds, monotone reactions to latency and
// drops, no oscillation on a flat latency, recovery after errors. One call is one window's summary.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AdaptiveSettings } from "../src/adaptive/settings.ts";
import { VegasLimit } from "../src/adaptive/vegas-limit.ts";
import { win } from "./helpers/vegas.ts";

/** No probe during a property run unless the run asks for one. */
const NEVER = 1e12;

const settingsArb = fc
	.record({
		min: fc.integer({ min: 1, max: 20 }),
		span: fc.integer({ min: 0, max: 300 }),
		at: fc.double({ min: 0, max: 1, noNaN: true }),
		alpha: fc.integer({ min: 1, max: 4 }),
		band: fc.integer({ min: 1, max: 4 }),
		backoff: fc.double({ min: 0.5, max: 0.95, noNaN: true }),
		probeIntervalMs: fc.constantFrom(5_000, NEVER),
	})
	.map(
		(r): AdaptiveSettings => ({
			min: r.min,
			max: r.min + r.span,
			initial: r.min + Math.floor(r.at * r.span),
			windowMs: 250,
			probeIntervalMs: r.probeIntervalMs,
			alpha: r.alpha,
			beta: r.alpha + r.band,
			backoff: r.backoff,
		}),
	);

interface Window {
	gap: number;
	rtt: number;
	inflight: number;
	/** The origin's own concurrency: anything up to the permits held (the rest are held outside it). */
	concurrency: number;
	didDrop: boolean;
}

const windowArb: fc.Arbitrary<Window> = fc.record({
	gap: fc.integer({ min: 1, max: 3_000 }),
	rtt: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constant(Number.NaN)),
	inflight: fc.integer({ min: 0, max: 400 }),
	concurrency: fc.double({ min: 0, max: 400, noNaN: true }),
	didDrop: fc.boolean(),
});
// A window with no latency is one whose every sample was dropped.
const historyArb = fc.array(windowArb, { maxLength: 60 }).map((ws) => ws.map((w) => (Number.isNaN(w.rtt) ? { ...w, didDrop: true } : w)));

/** The limit after `history`, and the clock at its end. */
function replay(s: AdaptiveSettings, history: readonly Window[]): { v: VegasLimit; t: number } {
	const v = new VegasLimit(s);
	let t = 0;
	for (const w of history) {
		t += w.gap;
		win(v, t, w.rtt, w.inflight, w.didDrop, w.concurrency);
	}
	return { v, t };
}

describe("VegasLimit properties (fast-check)", () => {
	it("Should keep the limit in force and the learned one within [min, max], whatever it is fed", () => {
		fc.assert(
			fc.property(settingsArb, historyArb, (s, history) => {
				const v = new VegasLimit(s);
				let t = 0;
				for (const w of history) {
					t += w.gap;
					const limit = win(v, t, w.rtt, w.inflight, w.didDrop, w.concurrency);
					expect(limit).toBe(v.limit);
					for (const x of [v.limit, v.learned]) {
						expect(Number.isInteger(x)).toBe(true);
						expect(x).toBeGreaterThanOrEqual(s.min);
						expect(x).toBeLessThanOrEqual(s.max);
					}
				}
			}),
			{ numRuns: 500 },
		);
	});

	it("Should never set a higher limit for a higher latency (same history, same in-flight, same concurrency)", () => {
		fc.assert(
			fc.property(
				settingsArb,
				historyArb,
				fc.integer({ min: 1, max: 3_000 }),
				fc.integer({ min: 1, max: 3_000 }),
				windowArb,
				(s, history, a, b, { inflight, concurrency }) => {
					const [low, high] = a <= b ? [a, b] : [b, a];
					const x = replay(s, history);
					const y = replay(s, history);
					win(x.v, x.t + 300, low, inflight, false, concurrency);
					win(y.v, y.t + 300, high, inflight, false, concurrency);
					expect(y.v.learned).toBeLessThanOrEqual(x.v.learned);
				},
			),
			{ numRuns: 500 },
		);
	});

	it("Should lower the limit on a dropped window (unless at min), never less than latency would", () => {
		fc.assert(
			fc.property(settingsArb, historyArb, fc.integer({ min: 1, max: 3_000 }), windowArb, (s, history, rtt, { inflight, concurrency }) => {
				const dropped = replay(s, history);
				const clean = replay(s, history);
				const before = dropped.v.learned;
				win(dropped.v, dropped.t + 300, rtt, inflight, true, concurrency);
				win(clean.v, clean.t + 300, rtt, inflight, false, concurrency);
				expect(dropped.v.learned).toBeLessThanOrEqual(clean.v.learned);
				if (before > s.min) expect(dropped.v.learned).toBeLessThan(before);
			}),
			{ numRuns: 500 },
		);
	});

	it("Should not oscillate on a flat latency: it turns at most twice, and never falls at the baseline", () => {
		fc.assert(
			fc.property(settingsArb, fc.integer({ min: 20, max: 1_000 }), fc.double({ min: 1, max: 3, noNaN: true }), (s0, baseline, k) => {
				const s = { ...s0, probeIntervalMs: NEVER };
				const v = new VegasLimit(s);
				win(v, 0, baseline, s.min, false); // the first probe: the baseline
				const learned = [v.learned];
				for (let i = 1; i <= 150; i++) {
					// Saturated: as many in flight as the limit allows, all of them at the origin.
					win(v, i * 300, baseline * k, v.limit, false);
					learned.push(v.learned);
				}
				const steps = learned
					.slice(1)
					.map((l, i) => Math.sign(l - (learned[i] as number)))
					.filter((d) => d !== 0);
				// Leaving slow start can cut one step too far when the queue estimate rounds up; it grows back once.
				const turns = steps.slice(1).filter((d, i) => d !== steps[i]).length;
				expect(turns).toBeLessThanOrEqual(2);
				if (k === 1) expect(steps.every((d) => d > 0)).toBe(true);
			}),
			{ numRuns: 500 },
		);
	});

	it("Should recover to max after errors once latency is back at its baseline, within a bounded number of windows", () => {
		fc.assert(
			fc.property(settingsArb, historyArb, (s0, history) => {
				const s = { ...s0, probeIntervalMs: NEVER };
				const { v, t } = replay(s, history);
				const bound = 2 + 2 * Math.ceil(Math.log2(s.max)) + Math.ceil((s.max - s.min) / s.beta);
				for (let i = 1; i <= bound; i++) win(v, t + i * 300, 1, v.limit, false);
				expect(v.learned).toBe(s.max);
			}),
			{ numRuns: 500 },
		);
	});
});
