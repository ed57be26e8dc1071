import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fairAdmit, sharesOf } from "../src/object/fair-admission.ts";
import { permitsOf, waterFill } from "../src/object/fair-share.ts";

/** Water-filling as the textbook states it: split what is left equally, satisfy whoever wants less, repeat. */
function referenceWaterFill(capacity: number, demands: readonly number[]): number[] {
	const shares = demands.map(() => 0);
	let active = demands.map((_, i) => i);
	let left = capacity;
	while (active.length > 0) {
		const equal = left / active.length;
		const satisfied = active.filter((i) => (demands[i] ?? 0) <= equal);
		if (satisfied.length === 0) {
			for (const i of active) shares[i] = equal;
			break;
		}
		for (const i of satisfied) {
			shares[i] = demands[i] ?? 0;
			left -= demands[i] ?? 0;
		}
		active = active.filter((i) => !satisfied.includes(i));
	}
	return shares;
}

describe("waterFill: max-min fair shares", () => {
	it("Should give Doorman's FAIR_SHARE example: capacity 120, wants 1000/50/10 → 60/50/10", () => {
		expect(waterFill(120, [1000, 50, 10])).toEqual([60, 50, 10]);
	});

	it("Should give a lone key the whole capacity, and every key what it wants when there is enough", () => {
		expect(waterFill(20, [1000])).toEqual([20]);
		expect(waterFill(20, [3, 4, 5])).toEqual([3, 4, 5]);
		expect(waterFill(20, [60, 2, 2, 2, 2])).toEqual([12, 2, 2, 2, 2]);
	});

	it("Should match the reference implementation for any capacity and demands", () => {
		fc.assert(
			fc.property(fc.integer({ min: 0, max: 500 }), fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 30 }), (capacity, demands) => {
				const got = waterFill(capacity, demands);
				const want = referenceWaterFill(capacity, demands);
				for (const [i, share] of got.entries()) expect(share).toBeCloseTo(want[i] ?? Number.NaN, 6);
				const total = got.reduce((a, b) => a + b, 0);
				expect(total).toBeCloseTo(
					Math.min(
						capacity,
						demands.reduce((a, b) => a + b, 0),
					),
					6,
				);
			}),
			{ numRuns: 1000 },
		);
	});

	it("Should round whole permits up (20 among 3 keys: 7 each, the limit keeps the total), never a float's dust", () => {
		expect(waterFill(20, [50, 50, 50]).map(permitsOf)).toEqual([7, 7, 7]);
		expect(permitsOf(6 + 1e-12)).toBe(6);
	});
});

/** One step of a simulated fair route: a key asks (with a demand it reports), or some key gives a permit back. */
const step = fc.oneof(
	fc.record({ kind: fc.constant("ask" as const), key: fc.integer({ min: 0, max: 3 }), want: fc.integer({ min: 1, max: 15 }) }),
	fc.record({ kind: fc.constant("release" as const), key: fc.integer({ min: 0, max: 3 }) }),
	fc.record({ kind: fc.constant("contention" as const), on: fc.boolean() }),
);

describe("fairAdmit: the admission rule of a fair route", () => {
	it("Should hold in flight to the limit always, and each key to its share while contended", () => {
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 12 }), fc.array(step, { minLength: 20, maxLength: 300 }), (limit, steps) => {
				const inFlight = new Map<string, number>();
				const demand = new Map<string, number>();
				let contended = false;
				for (const s of steps) {
					if (s.kind === "contention") {
						contended = s.on;
						continue;
					}
					const key = `k${s.key}`;
					if (s.kind === "release") {
						const held = inFlight.get(key) ?? 0;
						if (held > 0) inFlight.set(key, held - 1);
						continue;
					}
					demand.set(key, s.want);
					const before = new Map(inFlight);
					const decision = fairAdmit({ limit, inFlight, demand, key, contended });
					if (!decision.ok) continue;
					inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
					const total = [...inFlight.values()].reduce((a, b) => a + b, 0);
					expect(total).toBeLessThanOrEqual(limit);
					if (contended) {
						const share = sharesOf({ limit, inFlight: before, demand, key }).get(key) ?? 0;
						expect(inFlight.get(key)).toBeLessThanOrEqual(share);
					}
				}
			}),
			{ numRuns: 500 },
		);
	});

	it("Should let a lone key fill the limit uncontended, and hold a heavy key to what light keys leave when contended", () => {
		const inFlight = new Map([["heavy", 15]]);
		const demand = new Map([
			["heavy", 60],
			["b", 2],
			["c", 2],
			["d", 2],
			["e", 2],
		]);
		expect(fairAdmit({ limit: 20, inFlight, demand, key: "heavy", contended: false })).toEqual({ ok: true });
		expect(fairAdmit({ limit: 20, inFlight, demand, key: "heavy", contended: true })).toEqual({
			ok: false,
			reason: "over-share",
			share: 12,
		});
		expect(fairAdmit({ limit: 20, inFlight, demand, key: "b", contended: true })).toEqual({ ok: true });
		expect(fairAdmit({ limit: 20, inFlight: new Map([["heavy", 20]]), demand, key: "b", contended: true })).toMatchObject({
			ok: false,
			reason: "full",
		});
	});
});
