// Batched reports of what this isolate decided without its route's object (refusals from its "full" hint,
// failed object calls, fail-open admissions), so that /status and /metrics count every isolate's once.
import type { Route } from "../config/parse.ts";
import type { GaugeRpc } from "../gauge-rpc.ts";
import { emptyReport } from "../protocol.ts";
import type { IsolateCounters } from "./isolate-counters.ts";
import { isolateCounters, localClassRefusals } from "./isolate-counters.ts";
import type { WaitUntil } from "./permit-types.ts";
import { gaugeStub } from "./stub.ts";

/** A report leaves at most this long after the decisions it carries (docs/blocks.md: "about a second after they happen"). */
export const FLUSH_MS = 1_000;

/** What each route's object has been sent (so the next report carries only what is new). */
const sent = new Map<string, IsolateCounters>();
const sentByClass = new Map<string, number[]>();
/** Routes with a flush under way, and when it last woke (one whose request context died is given up after 3 × FLUSH_MS). */
const flushing = new Map<string, number>();

/**
 * Sends the route's new counts to its object FLUSH_MS from now, from this request's waitUntil. At most one
 * flush per route is under way; a later request schedules the next one.
 */
export function scheduleReport(ns: DurableObjectNamespace<GaugeRpc>, { name: route, locationHint }: Route, waitUntil: WaitUntil): void {
	const now = Date.now();
	const since = flushing.get(route);
	if (since !== undefined && now - since < 3 * FLUSH_MS) return;
	flushing.set(route, now);
	const stub = gaugeStub(ns, `route:${route}`, locationHint);
	waitUntil(flushLater(stub, route));
}

/** Flushes per scheduled report at most (10 s): well within the ~30 s a waitUntil may run after its response. */
const MAX_ROUNDS = 10;

/**
 * Every FLUSH_MS, sends what is new; stops once a round finds nothing new. Decisions made while a report is on
 * its way go out in the next round, so none waits for another request to come along.
 */
async function flushLater(stub: DurableObjectStub<GaugeRpc>, route: string): Promise<void> {
	try {
		for (let round = 0; round < MAX_ROUNDS; round++) {
			await new Promise((resolve) => setTimeout(resolve, FLUSH_MS));
			flushing.set(route, Date.now());
			const now = { ...isolateCounters(route) };
			const before = sent.get(route) ?? { gaugeErrors: 0, failOpen: 0, localRefusals: 0, keyRefusals: 0 };
			const report = {
				...emptyReport(),
				localRefused: now.localRefusals - before.localRefusals,
				gaugeErrors: now.gaugeErrors - before.gaugeErrors,
				failOpen: now.failOpen - before.failOpen,
			};
			// Key refusals and the classes' local refusals ride beside the report (its shape is the blocks' check-in's too).
			const keyRefused = now.keyRefusals - before.keyRefusals;
			const classesNow = [...localClassRefusals(route)].map((n) => n ?? 0);
			const classesBefore = sentByClass.get(route) ?? [];
			const byClass = classesNow.map((n, i) => n - (classesBefore[i] ?? 0));
			const classRefused = byClass.reduce((a, b) => a + b, 0);
			if (report.localRefused + report.gaugeErrors + report.failOpen + keyRefused + classRefused === 0) return;
			sent.set(route, now);
			sentByClass.set(route, classesNow);
			// A failed call is sent again by the next flush (the next request schedules it): a count may then be
			// reported twice, never lost. This one stops, so an unreachable object is not called again and again.
			const delivered = await Promise.resolve()
				.then(() => stub.report(report, keyRefused, classRefused > 0 ? byClass : undefined))
				.then(
					() => true,
					() => false,
				);
			if (!delivered) {
				// Take back only what this report carried: a later flush (this one hung past 3 × FLUSH_MS) may have sent
				// and recorded more since, and resetting to `before` would send those counts twice.
				const latest = sent.get(route) ?? now;
				sent.set(route, {
					localRefusals: latest.localRefusals - report.localRefused,
					gaugeErrors: latest.gaugeErrors - report.gaugeErrors,
					failOpen: latest.failOpen - report.failOpen,
					keyRefusals: latest.keyRefusals - keyRefused,
				});
				const latestByClass = sentByClass.get(route) ?? classesNow;
				sentByClass.set(
					route,
					latestByClass.map((n, i) => n - (byClass[i] ?? 0)),
				);
				return;
			}
		}
	} finally {
		flushing.delete(route);
	}
}
