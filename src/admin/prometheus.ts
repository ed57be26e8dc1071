// The route reports in the Prometheus text exposition format (version 0.0.4): counters end in _total,
// gauges are plain, hold times are a histogram with cumulative le buckets, _sum and _count.
import { HOLD_BUCKETS_MS } from "../gauge/lease-table.ts";
import type { RouteReport } from "./report.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Sample = { labels: Record<string, string>; value: number };

/** Label values escape backslash, double quote and newline. */
function labels(set: Record<string, string>): string {
	const pairs = Object.entries(set).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
	return pairs.length ? `{${pairs.join(",")}}` : "";
}

function family(name: string, type: "counter" | "gauge", help: string, samples: Sample[]): string[] {
	return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map((s) => `${name}${labels(s.labels)} ${s.value}`)];
}

/** Counters: the name between `pressuregauge_` and `_total`, the help text, and where the value is. */
const COUNTERS: [string, string, (r: RouteReport) => number][] = [
	["admitted", "Permits granted.", (r) => r.counters.admitted],
	["refused", "Requests refused (429) by the route's Durable Object.", (r) => r.counters.refused],
	["released", "Permits given back.", (r) => r.counters.released],
	["reaped", "Leases that expired unreleased (a leak signal).", (r) => r.counters.reaped],
	["dry_run_refused", "Requests dry-run mode admitted that would have been refused.", (r) => r.counters.dryRunRefused],
	["queued", "Requests that had to wait in the queue.", (r) => r.counters.queued],
	[
		"local_refused",
		"Refusals isolates answered from their memory that the route is full, without a Durable Object call (reported by every isolate).",
		(r) => r.isolate.localRefusals,
	],
	["object_errors", "Calls to the route's Durable Object that failed, reported by every isolate.", (r) => r.isolate.gaugeErrors],
	["fail_open", "Requests proxied without a permit because the route fails open, reported by every isolate.", (r) => r.isolate.failOpen],
];

export function toPrometheus(reports: readonly RouteReport[]): string {
	const per = (value: (r: RouteReport) => number): Sample[] => reports.map((r) => ({ labels: { route: r.name }, value: value(r) }));
	const lines = [
		...family(
			"pressuregauge_in_flight",
			"gauge",
			"Requests holding a permit.",
			per((r) => r.inFlight),
		),
		...family(
			"pressuregauge_queued",
			"gauge",
			"Requests waiting in the route's queue.",
			per((r) => r.queued),
		),
		...family(
			"pressuregauge_limit",
			"gauge",
			"Permits: configured in wrangler.toml, and effective (after a runtime override).",
			reports.flatMap((r) => [
				{ labels: { route: r.name, kind: "configured" }, value: r.limit.configured },
				{ labels: { route: r.name, kind: "effective" }, value: r.limit.effective },
			]),
		),
		...COUNTERS.flatMap(([name, help, pick]) => family(`pressuregauge_${name}_total`, "counter", help, per(pick))),
		`# HELP pressuregauge_hold_seconds How long permits were held.`,
		`# TYPE pressuregauge_hold_seconds histogram`,
		...reports.flatMap((r) => [
			...[...HOLD_BUCKETS_MS.map((ms) => String(ms / 1000)), "+Inf"].map(
				(le, i) => `pressuregauge_hold_seconds_bucket${labels({ route: r.name, le })} ${r.holds.buckets[i] ?? 0}`,
			),
			`pressuregauge_hold_seconds_sum${labels({ route: r.name })} ${r.holds.sumMs / 1000}`,
			`pressuregauge_hold_seconds_count${labels({ route: r.name })} ${r.holds.count}`,
		]),
	];
	return `${lines.join("\n")}\n`;
}
