import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classAdmit, classCaps } from "../src/object/priority.ts";

/** Headrooms that never decrease down the list, the first one 0 or more. */
const headroomsArb = fc
	.array(fc.integer({ min: 0, max: 90 }), { minLength: 1, maxLength: 4 })
	.map((hs) => [...hs].sort((a, b) => a - b).map((h) => h / 100));

const step = fc.oneof(
	fc.record({ kind: fc.constant("ask" as const), index: fc.integer({ min: 0, max: 3 }) }),
	fc.record({ kind: fc.constant("release" as const), index: fc.integer({ min: 0, max: 3 }) }),
);

describe("priority classes: headroom for the classes above", () => {
	it("Should cap a class at floor(limit × (1 − headroom)): limit 20, headrooms 0 / 0.5 → 20 / 10", () => {
		expect(classCaps(20, [0, 0.5])).toEqual([20, 10]);
		expect(classCaps(10, [0, 0.25, 0.7])).toEqual([10, 7, 3]);
	});

	it("Should keep the headroom of a lower class free for the classes above it", () => {
		// Sheddable holds its 10: it gets no more, critical still gets the other 10.
		expect(classAdmit(20, [0, 0.5], [0, 10], 1)).toEqual({ ok: false, reason: "class-full", cap: 10 });
		expect(classAdmit(20, [0, 0.5], [9, 10], 0)).toEqual({ ok: true });
		expect(classAdmit(20, [0, 0.5], [10, 10], 0)).toEqual({ ok: false, reason: "full", cap: 20 });
	});

	it("Should never let the total pass the limit, nor any class with those below it pass its cap", () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 1, max: 40 }),
				headroomsArb,
				fc.array(step, { minLength: 20, maxLength: 300 }),
				(limit, headrooms, steps) => {
					const inFlight = headrooms.map(() => 0);
					const caps = classCaps(limit, headrooms);
					for (const s of steps) {
						const index = s.index % headrooms.length;
						if (s.kind === "release") {
							if ((inFlight[index] ?? 0) > 0) inFlight[index] = (inFlight[index] ?? 0) - 1;
							continue;
						}
						const decision = classAdmit(limit, headrooms, inFlight, index);
						if (decision.ok) inFlight[index] = (inFlight[index] ?? 0) + 1;
						expect(inFlight.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(limit);
						for (let j = 0; j < headrooms.length; j++) {
							const below = inFlight.slice(j).reduce((a, b) => a + b, 0);
							expect(below).toBeLessThanOrEqual(caps[j] ?? limit);
						}
						// Work-conserving: a refusal means some bound is really reached.
						if (!decision.ok) {
							const blocked =
								inFlight.reduce((a, b) => a + b, 0) >= limit ||
								caps.some((cap, j) => j <= index && inFlight.slice(j).reduce((a, b) => a + b, 0) >= cap);
							expect(blocked).toBe(true);
						}
					}
				},
			),
			{ numRuns: 500 },
		);
	});
});
