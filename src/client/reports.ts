// Batched reports of what this isolate decided without its route's object (refusals from its "full" hint,
// failed object calls, fail-open admissions), so that /status and /metrics count every isolate's once.
import type { IsolateCounters } from "../gate/isolate-counters.ts";
import { isolateCounters } from "../gate/isolate-counters.ts";
import type { Gauge } from "../gauge/durable-object.ts";
import type { GaugeSpec, WaitUntil } from "../gauge/permit.ts";
import { emptyReport } from "../protocol.ts";

/** A report leaves at most this long after the decisions it carries (README, "Blocks": "about a second late"). */
export const FLUSH_MS = 1_000;

/** What each route's object has been sent (so the next report carries only what is new). */
const sent = new Map<string, IsolateCounters>();
/** Routes with a flush under way, and since when (a flush whose request context died is given up after 3 × FLUSH_MS). */
const flushing = new Map<string, number>();

/**
 * Sends the route's new counts to its object FLUSH_MS from now, from this request's waitUntil. At most one
 * flush per route is under way; a later request schedules the next one.
 */
export function scheduleReport(ns: DurableObjectNamespace<Gauge>, spec: GaugeSpec, waitUntil: WaitUntil): void {
	const route = spec.policy;
	const now = Date.now();
	const since = flushing.get(route);
	if (since !== undefined && now - since < 3 * FLUSH_MS) return;
	flushing.set(route, now);
	const stub = ns.getByName(`route:${route}`, spec.locationHint ? { locationHint: spec.locationHint } : undefined);
	waitUntil(flushLater(stub, route));
}

async function flushLater(stub: DurableObjectStub<Gauge>, route: string): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, FLUSH_MS));
	const now = { ...isolateCounters(route) };
	const before = sent.get(route) ?? { gaugeErrors: 0, failOpen: 0, localRefusals: 0 };
	const report = {
		...emptyReport(),
		localRefused: now.localRefusals - before.localRefusals,
		gaugeErrors: now.gaugeErrors - before.gaugeErrors,
		failOpen: now.failOpen - before.failOpen,
	};
	try {
		if (report.localRefused + report.gaugeErrors + report.failOpen > 0) {
			sent.set(route, now);
			// A failed call is sent again next time: a count may then be reported twice, never lost.
			await Promise.resolve()
				.then(() => stub.report(report))
				.catch(() => sent.set(route, before));
		}
	} finally {
		flushing.delete(route);
	}
}
