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

export function toPrometheus(reports: readonly RouteReport[]): string {
	const per = (value: (r: RouteReport) => number): Sample[] => reports.map((r) => ({ labels: { route: r.name }, value: value(r) }));
	const lines = [
		...family(
			"pressure_gauge_in_flight",
			"gauge",
			"Requests holding a permit.",
			per((r) => r.inFlight),
		),
		...family(
			"pressure_gauge_queued",
			"gauge",
			"Requests waiting in the route's queue.",
			per((r) => r.queued),
		),
		...family(
			"pressure_gauge_limit",
			"gauge",
			"Permits: configured in wrangler.toml, and effective (after a runtime override).",
			reports.flatMap((r) => [
				{ labels: { route: r.name, kind: "configured" }, value: r.limit.configured },
				{ labels: { route: r.name, kind: "effective" }, value: r.limit.effective },
			]),
		),
		...family(
			"pressure_gauge_admitted_total",
			"counter",
			"Permits granted.",
			per((r) => r.counters.admitted),
		),
		...family(
			"pressure_gauge_refused_total",
			"counter",
			"Requests refused (429).",
			per((r) => r.counters.refused),
		),
		...family(
			"pressure_gauge_released_total",
			"counter",
			"Permits given back.",
			per((r) => r.counters.released),
		),
		...family(
			"pressure_gauge_reaped_total",
			"counter",
			"Leases that expired unreleased (a leak signal).",
			per((r) => r.counters.reaped),
		),
		...family(
			"pressure_gauge_dry_run_refused_total",
			"counter",
			"Requests dry-run mode admitted that would have been refused.",
			per((r) => r.counters.dryRunRefused),
		),
		...family(
			"pressure_gauge_queued_total",
			"counter",
			"Requests that had to wait in the queue.",
			per((r) => r.counters.queued),
		),
		...family(
			"pressure_gauge_gauge_errors_total",
			"counter",
			"Durable Object calls that failed, seen by this isolate.",
			per((r) => r.isolate.gaugeErrors),
		),
		...family(
			"pressure_gauge_fail_open_total",
			"counter",
			"Requests proxied without a permit because the route fails open, in this isolate.",
			per((r) => r.isolate.failOpen),
		),
		`# HELP pressure_gauge_hold_seconds How long permits were held.`,
		`# TYPE pressure_gauge_hold_seconds histogram`,
		...reports.flatMap((r) => [
			...[...HOLD_BUCKETS_MS.map((ms) => String(ms / 1000)), "+Inf"].map(
				(le, i) => `pressure_gauge_hold_seconds_bucket${labels({ route: r.name, le })} ${r.holds.buckets[i] ?? 0}`,
			),
			`pressure_gauge_hold_seconds_sum${labels({ route: r.name })} ${r.holds.sumMs / 1000}`,
			`pressure_gauge_hold_seconds_count${labels({ route: r.name })} ${r.holds.count}`,
		]),
	];
	return `${lines.join("\n")}\n`;
}
