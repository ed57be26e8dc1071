// The route reports in the Prometheus text exposition format (version 0.0.4): counters end in _total,
// gauges are plain, hold times are a histogram with cumulative le buckets, _sum and _count.
import { OUTCOMES } from "../../adaptive/sample.ts";
import type { AdaptiveStatus } from "../../object/adaptive-gauge.ts";
import { HOLD_BUCKETS_MS } from "../../object/lease-table.ts";
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
	["released", "Permits given back.", (r) => r.counters.released],
	["reaped", "Leases that expired unreleased (a leak signal).", (r) => r.counters.reaped],
	["dry_run_refused", "Requests dry-run mode admitted that would have been refused.", (r) => r.counters.dryRunRefused],
	["queued", "Requests that had to wait in the queue.", (r) => r.counters.queued],
	["shed", "Waiters an adaptive queue shed (CoDel) instead of serving, each also refused.", (r) => r.counters.shed],
	[
		"local_refused",
		'Refusals isolates answered from their memory of the route\'s object (the route full, a class at its cap, a key at its fair share), without a Durable Object call (reported by every isolate); not in pressuregauge_refused_total{scope="route"}.',
		(r) => r.isolate.localRefusals,
	],
	["object_errors", "Calls to the route's Durable Object that failed, reported by every isolate.", (r) => r.isolate.gaugeErrors],
	["fail_open", "Requests proxied without a permit because the route fails open, reported by every isolate.", (r) => r.isolate.failOpen],
	[
		"refused_with_spares",
		"Refusals made while isolates' blocks held spare permits (as of their last check-ins): permits idle in isolates while others were refused.",
		(r) => r.blocks.refusedWithSpares,
	],
];

/** `configValid` false: the config is invalid, nothing is proxied, and `reports` is empty (see /status for why). */
export function toPrometheus(reports: readonly RouteReport[], configValid = true): string {
	const per = (value: (r: RouteReport) => number): Sample[] => reports.map((r) => ({ labels: { route: r.name }, value: value(r) }));
	const lines = [
		...family(
			"pressuregauge_config_valid",
			"gauge",
			"1 when the gate's config is valid; 0 when it is not, and every request but the admin surface's is answered 500 (GET /status lists the errors).",
			[{ labels: {}, value: configValid ? 1 : 0 }],
		),
		...family(
			"pressuregauge_in_flight",
			"gauge",
			"Permits the route's Durable Objects count as taken: requests holding one, and every permit leased to isolates in blocks, in use or spare (see pressuregauge_block_spare_permits).",
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
		...family(
			"pressuregauge_block_permits",
			"gauge",
			"Permits leased to isolates in blocks, as of each block's last check-in.",
			per((r) => r.blocks.held),
		),
		...family(
			"pressuregauge_block_spare_permits",
			"gauge",
			"Permits in isolates' blocks that were not in use at the blocks' last check-ins.",
			per((r) => r.blocks.spare),
		),
		...family(
			"pressuregauge_refused_total",
			"counter",
			'Requests refused (429). scope="route": by the route\'s Durable Object (every permit in use, a class at its cap, or a key at its fair share); scope="key": the client\'s fixed perKey.limit was in use (counted by isolates, reported about a second late).',
			reports.flatMap((r) => [
				{ labels: { route: r.name, scope: "route" }, value: r.counters.refused },
				{ labels: { route: r.name, scope: "key" }, value: r.isolate.keyRefusals },
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
		...adaptiveFamilies(reports),
		...sharingFamilies(reports),
	];
	return `${lines.join("\n")}\n`;
}

/** Priority classes, fair shares and adaptive queues (issue 21); a family only when some route has it. */
function sharingFamilies(reports: readonly RouteReport[]): string[] {
	const classes = reports.flatMap((r) => (r.classes ?? []).map((c) => ({ route: r.name, c })));
	const perClass = (pick: (c: NonNullable<RouteReport["classes"]>[number]) => number): Sample[] =>
		classes.map(({ route, c }) => ({ labels: { route, class: c.name }, value: pick(c) }));
	const fair = reports.flatMap((r) => (r.fair ? [{ route: r.name, f: r.fair }] : []));
	const perFair = (pick: (f: NonNullable<RouteReport["fair"]>) => number): Sample[] =>
		fair.map(({ route, f }) => ({ labels: { route }, value: pick(f) }));
	const queues = reports.flatMap((r) => (r.queueMode ? [{ route: r.name, q: r.queueMode }] : []));
	const lines: string[] = [];
	if (classes.length > 0) {
		lines.push(
			...family(
				"pressuregauge_class_in_flight",
				"gauge",
				"Requests holding a permit, per priority class.",
				perClass((c) => c.inFlight),
			),
			...family(
				"pressuregauge_class_queued",
				"gauge",
				"Requests waiting in the queue, per priority class.",
				perClass((c) => c.queued),
			),
			...family(
				"pressuregauge_class_admitted_total",
				"counter",
				"Permits granted, per priority class.",
				perClass((c) => c.admitted),
			),
			...family(
				"pressuregauge_class_refused_total",
				"counter",
				"Requests refused, per priority class.",
				perClass((c) => c.refused),
			),
		);
	}
	if (fair.length > 0) {
		lines.push(
			...family(
				"pressuregauge_fair_share",
				"gauge",
				"The most permits an active key may hold while the route is contended.",
				perFair((f) => f.fairShare),
			),
			...family(
				"pressuregauge_fair_active_keys",
				"gauge",
				"Keys active on a fair route (in flight, queued, or asking within the last half second to second).",
				perFair((f) => f.activeKeys),
			),
			...family(
				"pressuregauge_fair_contended",
				"gauge",
				"1 while a fair route holds keys to their shares (waiters, or a refusal within the last half second).",
				perFair((f) => (f.contended ? 1 : 0)),
			),
		);
	}
	if (queues.length > 0) {
		lines.push(
			...family(
				"pressuregauge_queue_lifo",
				"gauge",
				"1 while an adaptive queue serves newest first (it has not been empty for an interval).",
				queues.map(({ route, q }) => ({ labels: { route }, value: q.mode === "lifo" ? 1 : 0 })),
			),
			...family(
				"pressuregauge_queue_shedding",
				"gauge",
				"1 while CoDel sheds waiters of an adaptive queue.",
				queues.map(({ route, q }) => ({ labels: { route }, value: q.shedding ? 1 : 0 })),
			),
		);
	}
	return lines;
}

/** What adaptive routes learn and see; nothing when no route is adaptive. */
function adaptiveFamilies(reports: readonly RouteReport[]): string[] {
	const routes = reports.flatMap((r) => (r.limit.adaptive ? [{ route: r.name, a: r.limit.adaptive }] : []));
	if (routes.length === 0) return [];
	const each = (pick: (a: AdaptiveStatus) => [Record<string, string>, number | null][]): Sample[] =>
		routes.flatMap(({ route, a }) => pick(a).flatMap(([extra, value]) => (value === null ? [] : [{ labels: { route, ...extra }, value }])));
	const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);
	return [
		...family(
			"pressuregauge_adaptive_limit",
			"gauge",
			'An adaptive route\'s learned limit and its floor and ceiling (the one in force is pressuregauge_limit{kind="effective"}).',
			each((a) => [
				[{ kind: "learned" }, a.learned],
				[{ kind: "floor" }, a.min],
				[{ kind: "ceiling" }, a.max],
			]),
		),
		...family(
			"pressuregauge_adaptive_latency_seconds",
			"gauge",
			"Origin time to response headers the adaptive limit sees: the no-load baseline and the last window's median.",
			each((a) => [
				[{ kind: "baseline" }, seconds(a.baselineMs)],
				[{ kind: "recent" }, seconds(a.recentMs)],
			]),
		),
		...family(
			"pressuregauge_adaptive_queue",
			"gauge",
			"Requests the adaptive limit estimates were waiting inside the origin in its last window.",
			each((a) => [[{}, a.queue]]),
		),
		...family(
			"pressuregauge_adaptive_samples_total",
			"counter",
			"Exchanges with the origin reported to the adaptive limit, by how they ended.",
			each((a) => OUTCOMES.map((outcome) => [{ outcome }, a.outcomes[outcome]])),
		),
	];
}
