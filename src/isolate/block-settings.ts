// A route's `blocks` setting resolved for one of its gauges (a shard holds a share of the limit).
import type { Route } from "../config/parse.ts";
import { DEFAULTS } from "../config/schema.ts";

/** A route's block setting, resolved for one gauge (docs/blocks.md). */
export interface BlockSettings {
	/** The most permits one isolate's block may hold (a share of this gauge's limit). */
	readonly max: number;
	/** An isolate holding spares checks in at least this often while it has requests, and gives spares back after this long idle. */
	readonly returnAfterMs: number;
	/** How long after a check-in the isolate may still admit under its block; the block's lease is windowMs + maxHoldMs. */
	readonly windowMs: number;
}

/**
 * How long after a check-in an isolate may still admit under its block. A live isolate renews when half of it
 * is gone; a frozen or evicted one parks at most its block until its last check-in + this + maxHoldMs.
 */
export const ADMISSION_WINDOW_MS = 1_000;

/** Null when blocks are off, or when the cap leaves blocks of one permit (k = 1 is exactly a single lease). */
export function blockSettings(route: Pick<Route, "blocks">, gaugeLimit: number): BlockSettings | null {
	const blocks = route.blocks;
	if (!blocks) return null;
	const max = Math.min(gaugeLimit, blocks.max ?? Math.floor(gaugeLimit * DEFAULTS.blocks.share));
	if (max < 2) return null;
	return { max, returnAfterMs: blocks.returnAfterMs, windowMs: Math.max(ADMISSION_WINDOW_MS, 2 * blocks.returnAfterMs) };
}
