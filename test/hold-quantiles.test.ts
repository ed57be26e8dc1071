// Hold-time percentiles read from the histogram as Prometheus's histogram_quantile() reads it: linear within
// the bucket the rank falls in, so a 2 s origin does not show as the bucket's upper bound, 2500 ms.
import { describe, expect, it } from "vitest";
import { percentile } from "../src/gate/admin/report.ts";
import { HOLD_BUCKETS_MS } from "../src/object/lease-table.ts";

/** A cumulative histogram (HOLD_BUCKETS_MS, then +Inf) of the given hold times. */
function histogram(holdsMs: number[]) {
	const bounds = [...HOLD_BUCKETS_MS, Number.POSITIVE_INFINITY];
	return {
		buckets: bounds.map((le) => holdsMs.filter((ms) => ms <= le).length),
		sumMs: holdsMs.reduce((a, b) => a + b, 0),
		count: holdsMs.length,
	};
}

describe("percentile (as histogram_quantile)", () => {
	it("interpolates linearly inside the bucket: ten 2 s holds in (1000, 2500] give p50 1750 and p99 2485, not 2500", () => {
		const h = histogram(Array(10).fill(2_000));
		expect(percentile(h, 0.5)).toBe(1_750);
		expect(percentile(h, 0.99)).toBe(2_485);
	});

	it("starts the first bucket at 0, and spreads ranks over the buckets they fall in", () => {
		expect(percentile(histogram([1, 2, 3, 4]), 0.5)).toBe(2.5);
		expect(percentile(histogram([4, 4, 40, 40]), 0.75)).toBe(37.5);
	});

	it("is null with no data, and the highest finite bound when the rank is above it (as Prometheus)", () => {
		expect(percentile(histogram([]), 0.5)).toBeNull();
		expect(percentile(histogram([90_000, 90_000]), 0.5)).toBe(60_000);
	});
});
