import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RefusalLine, spreadRetryAfter } from "../src/object/retry-after.ts";

describe("Retry-After that spreads retries", () => {
	it("Should never be earlier than the estimated free time, and never earlier for a later place in line", () => {
		fc.assert(
			fc.property(
				fc.record({
					freeInMs: fc.integer({ min: 0, max: 60_000 }),
					place: fc.integer({ min: 1, max: 5_000 }),
					limit: fc.integer({ min: 1, max: 1_000 }),
					holdMs: fc.integer({ min: 1, max: 60_000 }),
					random: fc.double({ min: 0, max: 0.999_999, noNaN: true }),
					overShare: fc.boolean(),
				}),
				(input) => {
					const ms = spreadRetryAfter(input);
					expect(ms).toBeGreaterThanOrEqual(input.freeInMs);
					// The next place's earliest time is no earlier than this place's latest.
					const next = spreadRetryAfter({ ...input, place: input.place + 1, random: 0 });
					expect(next + 1).toBeGreaterThanOrEqual(ms);
					if (!input.overShare) expect(spreadRetryAfter({ ...input, overShare: true })).toBeGreaterThanOrEqual(ms);
				},
			),
			{ numRuns: 1_000 },
		);
	});

	it("Should spread 1 000 refusals of one burst so no one-second bucket gets more than 25 % of the retries (limit 10, 2 s holds)", () => {
		const line = new RefusalLine();
		const buckets = new Map<number, number>();
		for (let i = 0; i < 1_000; i++) {
			const place = line.place(0, 2_000);
			const ms = spreadRetryAfter({ freeInMs: 2_000, place, limit: 10, holdMs: 2_000, random: Math.random(), overShare: false });
			// The client retries after Retry-After whole seconds (RFC 9110 §10.2.3), as urllib3 does.
			const second = Math.max(1, Math.ceil(ms / 1_000));
			buckets.set(second, (buckets.get(second) ?? 0) + 1);
		}
		expect(Math.max(...buckets.values())).toBeLessThanOrEqual(250);
	});

	it("Should count places in line over the last window only", () => {
		const line = new RefusalLine();
		expect([line.place(0, 1_000), line.place(10, 1_000), line.place(999, 1_000)]).toEqual([1, 2, 3]);
		expect(line.place(1_010, 1_000)).toBe(2);
	});
});
