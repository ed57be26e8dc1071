// A block check-in as an isolate sends it, with the fields a test does not care about filled in.
import type { CheckIn } from "../../src/protocol.ts";

/** A check-in for `blockId` asking for `want` permits: by default a request waits on it, nothing in use, limit 10. */
export const checkIn = (blockId: string, want: number, extra: Partial<CheckIn> = {}): CheckIn => ({
	blockId,
	want,
	need: true,
	inUse: 0,
	limit: 10,
	maxHoldMs: 5_000,
	windowMs: 1_000,
	dryRun: false,
	report: null,
	...extra,
});
