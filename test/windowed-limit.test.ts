import { describe, expect, it } from "vitest";
import type { WindowLimit, WindowSample } from "../src/adaptive/limit.ts";
import { DROP_TOLERANCE, median, WindowedLimit } from "../src/adaptive/windowed-limit.ts";

/** Records what the window hands on. */
function recorder(): WindowLimit & { seen: WindowSample[] } {
	const seen: WindowSample[] = [];
	return {
		limit: 7,
		seen,
		onWindow(window) {
			seen.push(window);
			return 7;
		},
	};
}

describe("WindowedLimit: one aggregate sample per window", () => {
	it("Should hand on nothing until the window is both long enough and full enough", () => {
		const delegate = recorder();
		const w = new WindowedLimit(delegate, { windowMs: 100, minSamples: 3 });
		w.onSample(0, 10, 1, false); // opens the window at t = 10
		w.onSample(20, 10, 2, false);
		w.onSample(30, 10, 3, false);
		expect(delegate.seen).toEqual([]); // two samples that started inside, 30 ms: too short
		w.onSample(100, 15, 4, false);
		// 4 answers in 105 ms at a median of 10 ms: the origin held 4 / 105 x 10 = 0.38 on average (Little's law).
		expect(delegate.seen).toEqual([{ start: 10, rtt: 10, inflight: 4, concurrency: (4 / 105) * 10, didDrop: false }]);
	});

	it("Should leave out the latency of exchanges that started before the window opened (they ran under an older limit)", () => {
		const delegate = recorder();
		const w = new WindowedLimit(delegate, { windowMs: 10, minSamples: 2 });
		w.onSample(0, 5, 1, false); // opens at 5
		w.onSample(1, 500, 1, false); // started at 1: before the window
		w.onSample(6, 20, 1, false);
		expect(delegate.seen).toEqual([]);
		w.onSample(7, 40, 1, false);
		expect(delegate.seen.map((s) => s.rtt)).toEqual([30]); // median of 20 and 40, not 500
	});

	it("Should count drops whenever they started, and call the window dropped above the tolerance", () => {
		const delegate = recorder();
		const w = new WindowedLimit(delegate, { windowMs: 10, minSamples: 2 });
		w.onSample(0, 1, 1, false);
		w.onSample(-5_000, 5_010, 1, true); // a timeout that started long ago
		w.onSample(2, 10, 1, false);
		expect(delegate.seen).toEqual([{ start: 1, rtt: 10, inflight: 1, concurrency: (2 / 11) * 10, didDrop: true }]);
	});

	it("Should tolerate a stray drop in a large window", () => {
		const delegate = recorder();
		const w = new WindowedLimit(delegate, { windowMs: 10, minSamples: 1 });
		w.onSample(0, 1, 1, false);
		const n = Math.ceil(1 / DROP_TOLERANCE) + 1;
		for (let i = 0; i < n - 1; i++) w.onSample(1 + i / n, 0.001, 1, false);
		w.onSample(2, 9, 1, true);
		w.onSample(3, 9, 1, false);
		expect(delegate.seen.at(-1)?.didDrop).toBe(false);
	});

	it("Should take the median", () => {
		expect(median([3, 1, 2])).toBe(2);
		expect(median([4, 1, 2, 3])).toBe(2.5);
		expect(median([])).toBeNaN();
	});
});
