// A route's limit: a fixed `limit`, or `adaptive = { min, max, … }` learned within bounds. The combinations the
// schema cannot see are checked here, each error naming the field, the value and what was expected.
import type { AdaptiveSettings } from "../adaptive/settings.ts";
import { ADAPTIVE_DEFAULTS } from "../adaptive/settings.ts";

/** A probe pins the limit to `min` for one window: at most one window in this many is spent at the floor. */
export const MIN_WINDOWS_PER_PROBE = 10;

interface LimitInput {
	readonly limit?: number | "unlimited" | undefined;
	readonly shards?: number | undefined;
	readonly websocket?: string | undefined;
	readonly blocks?: unknown;
	readonly adaptive?:
		| {
				readonly min?: number | undefined;
				readonly max: number;
				readonly initial?: number | undefined;
				readonly windowMs?: number | undefined;
				readonly probeIntervalMs?: number | undefined;
				readonly alpha?: number | undefined;
				readonly beta?: number | undefined;
				readonly backoff?: number | undefined;
		  }
		| undefined;
}

/**
 * The route's limit and, when adaptive, its settings with defaults filled in. On an adaptive route `limit` is the
 * ceiling: what the RateLimit headers quote and the most the object may ever allow. Null after reporting errors.
 * `expectedLimit` says what a fixed limit may be on this kind of route.
 */
export function resolveLimit(
	rule: LimitInput,
	at: string,
	errors: string[],
	expectedLimit: string,
): { limit: number | "unlimited"; adaptive: AdaptiveSettings | null } | null {
	const input = rule.adaptive;
	if (!input) {
		if (rule.limit !== undefined) return { limit: rule.limit, adaptive: null };
		errors.push(`${at}.limit: got nothing, ${expectedLimit} (or adaptive = { min, max } to learn it)`);
		return null;
	}
	const d = ADAPTIVE_DEFAULTS;
	const min = input.min ?? d.min;
	const settings: AdaptiveSettings = {
		min,
		max: input.max,
		initial: input.initial ?? min,
		windowMs: input.windowMs ?? d.windowMs,
		probeIntervalMs: input.probeIntervalMs ?? d.probeIntervalMs,
		alpha: input.alpha ?? d.alpha,
		beta: input.beta ?? d.beta,
		backoff: input.backoff ?? d.backoff,
	};
	const before = errors.length;
	const a = `${at}.adaptive`;
	if (rule.limit !== undefined) {
		errors.push(
			`${at}.limit: got ${JSON.stringify(rule.limit)}, expected no fixed limit beside adaptive (a route has one or the other; adaptive.initial sets where it starts)`,
		);
	}
	if (min > settings.max) errors.push(`${a}.min: got ${min}, expected at most adaptive.max = ${settings.max}`);
	else if (settings.initial < min || settings.initial > settings.max) {
		errors.push(`${a}.initial: got ${settings.initial}, expected between adaptive.min = ${min} and adaptive.max = ${settings.max}`);
	}
	if (settings.beta <= settings.alpha) {
		errors.push(
			`${a}.beta: got ${settings.beta}, expected more than adaptive.alpha = ${settings.alpha} (the limit grows below alpha and shrinks above beta)`,
		);
	}
	const leastProbe = MIN_WINDOWS_PER_PROBE * settings.windowMs;
	if (settings.probeIntervalMs < leastProbe) {
		errors.push(
			`${a}.probeIntervalMs: got ${settings.probeIntervalMs}, expected at least ${MIN_WINDOWS_PER_PROBE} × adaptive.windowMs = ${leastProbe} (each probe holds the limit at min for a window)`,
		);
	}
	if (rule.shards !== undefined && rule.shards !== 1) {
		errors.push(
			`${at}.shards: got ${rule.shards}, expected 1 with adaptive (the limit is learned from all of the route's traffic in one Durable Object)`,
		);
	}
	// An open socket would hold one of the learned permits for its whole life and send no sample: a few sockets
	// would pin the limit at its floor and refuse every request. So adaptive routes count the handshake only.
	if (rule.websocket === "hold") {
		errors.push(
			`${at}.websocket: got "hold", expected "handshake" or "refuse" with adaptive (a held socket would keep a learned permit for its whole life and teach the limit nothing)`,
		);
	}
	// The limit learns from each exchange's sample as its permit comes back; a block admits and releases in the
	// isolate and reports in batches, too late and too coarse for a window of samples. One permit per request.
	if (rule.blocks !== undefined && rule.blocks !== "off") {
		errors.push(
			`${at}.blocks: got ${JSON.stringify(rule.blocks)}, expected "off" (or no blocks setting) with adaptive (the limit learns from every exchange's release)`,
		);
	}
	return errors.length > before ? null : { limit: settings.max, adaptive: settings };
}
