// Structured log lines (one JSON object each) for what an operator must know, never one per request in a flood.

export type LogEvent =
	| "config_invalid"
	| "gauge_unavailable"
	| "fail_open"
	| "lease_reaped"
	| "release_failed"
	| "origin_error"
	| "worker_error"
	| "limit_changed"
	| "limit_adapted";

export function log(event: LogEvent, fields: Record<string, unknown> = {}): void {
	console.log(JSON.stringify({ event, ...fields }));
}

/** Lines per key at most this often; the events in between are counted into the next line. */
const SAMPLE_INTERVAL_MS = 1_000;
const pending = new Map<string, { last: number; suppressed: number }>();

/** Logs the event at most once a second per (event, key), with how many were folded into it. */
export function logSampled(event: LogEvent, key: string, fields: Record<string, unknown> = {}, now = Date.now()): void {
	const id = `${event}:${key}`;
	const entry = pending.get(id);
	if (entry && now - entry.last < SAMPLE_INTERVAL_MS) {
		entry.suppressed++;
		return;
	}
	log(event, { ...fields, count: 1 + (entry?.suppressed ?? 0) });
	pending.set(id, { last: now, suppressed: 0 });
}
