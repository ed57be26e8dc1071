import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lineCapMs, RetryLine, retryAfterIn, slotMsOf } from "../src/responses/retry-line.ts";

describe("Retry-After that spreads retries (the retry line)", () => {
	it("Should never tell a client to retry before the estimated free time or past the line's cap, and never hand out two overlapping slots", () => {
		fc.assert(
			fc.property(
				fc.array(
					fc.record({
						dt: fc.integer({ min: 0, max: 5_000 }),
						freeInMs: fc.integer({ min: 0, max: 60_000 }),
						holdMs: fc.integer({ min: 1, max: 60_000 }),
						limit: fc.integer({ min: 1, max: 1_000 }),
						overShare: fc.boolean(),
						random: fc.double({ min: 0, max: 0.999_999, noNaN: true }),
					}),
					{ minLength: 1, maxLength: 300 },
				),
				(steps) => {
					const line = new RetryLine();
					let now = 0;
					const slots: [number, number][] = [];
					for (const s of steps) {
						now += s.dt;
						const slot = line.take(now, s.freeInMs, slotMsOf(s.holdMs, s.limit, s.overShare), lineCapMs(s.holdMs), s.random);
						const ms = retryAfterIn(slot, s.random);
						expect(ms).toBeGreaterThanOrEqual(s.freeInMs);
						expect(ms).toBeLessThanOrEqual(Math.round(slot.capMs));
						// Slots taken in line (not the ones that found it full) follow each other without overlapping.
						if (slot.inLine) slots.push([now + slot.startMs, now + slot.startMs + slot.slotMs]);
					}
					for (let i = 1; i < slots.length; i++) expect(slots[i]?.[0]).toBeGreaterThanOrEqual((slots[i - 1]?.[1] ?? 0) - 1e-6);
				},
			),
			{ numRuns: 500 },
		);
	});

	it("Should spread 1 000 refusals of one burst so no one-second bucket gets more than 25 % of the retries (limit 10, 2 s holds)", () => {
		const line = new RetryLine();
		const buckets = new Map<number, number>();
		for (let i = 0; i < 1_000; i++) {
			const slot = line.take(0, 2_000, slotMsOf(2_000, 10, false), lineCapMs(2_000), Math.random());
			// The client retries after Retry-After whole seconds (RFC 9110 §10.2.3), as urllib3 does.
			const second = Math.max(1, Math.ceil(retryAfterIn(slot, Math.random()) / 1_000));
			buckets.set(second, (buckets.get(second) ?? 0) + 1);
		}
		expect(Math.max(...buckets.values())).toBeLessThanOrEqual(250);
		expect(buckets.size).toBeGreaterThanOrEqual(10);
	});

	it("Should send a client refused again to the back of the line, not to the front (the line drains with the clock)", () => {
		const line = new RetryLine();
		const take = (now: number, freeInMs: number) => line.take(now, freeInMs, 500, 10_000, 0).startMs;
		// Four refused at 0 with a permit expected free in 1 s, 500 ms apart: the line ends at 3 s.
		expect([0, 1, 2, 3].map(() => take(0, 1_000))).toEqual([1_000, 1_500, 2_000, 2_500]);
		// The first comes back at 1.5 s, loses the freed permit to someone else, and is told the line's end: 3 s.
		expect(take(1_500, 0)).toBe(1_500);
		// Once the line has drained, a refusal waits only for the free estimate.
		expect(take(60_000, 700)).toBe(700);
	});

	it("Should stop growing at the cap and place the rest at random between the free estimate and it", () => {
		const line = new RetryLine();
		const starts = Array.from({ length: 30 }, (_, i) => line.take(0, 1_000, 1_000, 10_000, (i % 10) / 10).startMs);
		// 1 s free estimate, 1 s slots, a 10 s line: nine slots, then the rest anywhere in [1 s, 9 s].
		expect(starts.slice(0, 9)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000]);
		for (const s of starts.slice(9)) {
			expect(s).toBeGreaterThanOrEqual(1_000);
			expect(s).toBeLessThanOrEqual(9_000);
		}
	});
});
