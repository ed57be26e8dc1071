// Builds the route's adaptive limit as the object does (VegasLimit behind a WindowedLimit), for tests.
import type { Limit } from "../../src/adaptive/limit.ts";
import type { AdaptiveSettings } from "../../src/adaptive/settings.ts";
import { ADAPTIVE_DEFAULTS, MIN_WINDOW_SAMPLES } from "../../src/adaptive/settings.ts";
import { VegasLimit } from "../../src/adaptive/vegas-limit.ts";
import { WindowedLimit } from "../../src/adaptive/windowed-limit.ts";

export function settings(extra: Partial<AdaptiveSettings> = {}): AdaptiveSettings {
	const min = extra.min ?? ADAPTIVE_DEFAULTS.min;
	return { ...ADAPTIVE_DEFAULTS, min, max: 100, initial: min, ...extra };
}

export function windowedVegas(extra: Partial<AdaptiveSettings> = {}): { limit: WindowedLimit; vegas: VegasLimit } {
	const s = settings(extra);
	const vegas = new VegasLimit(s);
	return { vegas, limit: new WindowedLimit(vegas, { windowMs: s.windowMs, minSamples: MIN_WINDOW_SAMPLES }) };
}

/** A limit that never moves: the fixed-limit baseline the adaptive one is compared with. */
export function fixed(limit: number): Limit {
	return { limit, onSample: () => limit };
}

/** One window's summary fed straight to the algorithm; the origin's concurrency defaults to the permits held. */
export function win(v: VegasLimit, start: number, rtt: number, inflight: number, didDrop: boolean, concurrency = inflight): number {
	return v.onWindow({ start, rtt, inflight, concurrency, didDrop });
}
