// What the admin surface reports per route, gathered once and shown as JSON, Prometheus text or a page.
import type { Route } from "../../config/parse.ts";
import { routeGauges } from "../../core/partition.ts";
import type { IsolateCounters } from "../../isolate/isolate-counters.ts";
import { gaugeStub } from "../../isolate/stub.ts";
import type { AdaptiveStatus } from "../../object/adaptive-gauge.ts";
import type { Gauge, GaugeStatus } from "../../object/durable-object.ts";
import { totalOf } from "../../object/layout.ts";
import { BUSIEST_HOLDERS, rankHolders } from "../../object/lease-store.ts";
import type { HoldHistogram } from "../../object/lease-table.ts";
import { HOLD_BUCKETS_MS } from "../../object/lease-table.ts";

export interface RouteReport extends Omit<GaugeStatus, "limitOverride" | "adaptive" | "reported" | "classes"> {
	readonly name: string;
	/** On a route with classes, each class by name, most critical first; null elsewhere. */
	readonly classes: ClassReport[] | null;
	/**
	 * `configured`: the fixed limit, or an adaptive route's ceiling; `effective`: the one in force (the override, else
	 * the learned one, else the configured one); `adaptive`: the learned limit and what the algorithm sees.
	 */
	readonly limit: {
		readonly configured: number;
		readonly effective: number;
		readonly override: number | null;
		readonly adaptive: AdaptiveStatus | null;
	};
	/**
	 * Hold-time percentiles in ms, estimated from the histogram as Prometheus's histogram_quantile() does (linear
	 * within a bucket); null: none yet.
	 */
	readonly holdMs: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null };
	/** Decisions isolates took without the route's object, as every isolate reported them (counted once, about a second late). */
	readonly isolate: IsolateCounters;
}

export function allRoutes(routes: readonly Route[], fallback: Route | null): Route[] {
	return fallback ? [...routes, fallback] : [...routes];
}

export async function reportRoutes(ns: DurableObjectNamespace<Gauge>, routes: readonly Route[]): Promise<RouteReport[]> {
	return Promise.all(
		routes.map(async (route) => {
			const specs = routeGauges(route);
			const record = specs[0]?.shard?.record ?? `route:${route.name}`;
			const first = await gaugeStub(ns, record, route.locationHint).status(specs[0]?.adaptive);
			// Shards of every layout still in use count: during a reshard, a removed shard may still hold leases.
			const width = Math.max(specs.length, first.layout?.shares.length ?? 0, ...(first.layout?.layouts.map((l) => l.shards) ?? []));
			const others = await Promise.all(
				Array.from({ length: width - 1 }, (_, i) => gaugeStub(ns, `${record}#${i + 1}`, route.locationHint).status()),
			);
			const { limitOverride, adaptive, reported, ...status } = mergeShards([first, ...others]);
			const shares = first.layout?.shares ?? [];
			// An adaptive route (one shard) admits up to its learned limit unless a runtime limit pins it.
			const learned = limitOverride === null ? (adaptive?.limit ?? null) : null;
			const effective = learned ?? (shares.length > 0 ? totalOf(shares) : (limitOverride ?? route.limit));
			const stats = status.classes;
			return {
				name: route.name,
				...status,
				classes:
					route.classes && stats
						? route.classes.list.map((c, i) => ({
								name: c.name,
								headroom: c.headroom,
								inFlight: stats.inFlight[i] ?? 0,
								queued: stats.queued[i] ?? 0,
								admitted: stats.admitted[i] ?? 0,
								refused: stats.refused[i] ?? 0,
							}))
						: null,
				limit: { configured: route.limit, effective, override: limitOverride, adaptive },
				holdMs: { p50: percentile(status.holds, 0.5), p90: percentile(status.holds, 0.9), p99: percentile(status.holds, 0.99) },
				isolate: {
					gaugeErrors: reported.gaugeErrors,
					failOpen: reported.failOpen,
					localRefusals: reported.localRefused,
					keyRefusals: reported.keyRefused,
				},
			};
		}),
	);
}

/** One priority class of a route, as /status shows it. */
export interface ClassReport {
	readonly name: string;
	readonly headroom: number;
	readonly inFlight: number;
	readonly queued: number;
	readonly admitted: number;
	readonly refused: number;
}

/** One route's view from its shards' statuses: counts add up, the busiest keys are ranked again. */
export function mergeShards(shards: readonly GaugeStatus[]): GaugeStatus {
	const sum = (pick: (s: GaugeStatus) => number): number => shards.reduce((total, s) => total + pick(s), 0);
	const released = sum((s) => s.counters.released);
	const keys = new Map<string, number>();
	for (const s of shards) for (const k of s.busiestKeys) keys.set(k.holder, (keys.get(k.holder) ?? 0) + k.inFlight);
	return {
		inFlight: sum((s) => s.inFlight),
		queued: sum((s) => s.queued),
		// The runtime limit and the layout record live on shard 0.
		limitOverride: shards[0]?.limitOverride ?? null,
		layout: shards[0]?.layout ?? null,
		// The counters add up only since the latest shard restart: count from then.
		countersSince: Math.max(0, ...shards.map((s) => s.countersSince)),
		counters: {
			admitted: sum((s) => s.counters.admitted),
			refused: sum((s) => s.counters.refused),
			released: sum((s) => s.counters.released),
			reaped: sum((s) => s.counters.reaped),
			dryRunRefused: sum((s) => s.counters.dryRunRefused),
			queued: sum((s) => s.counters.queued),
			shed: sum((s) => s.counters.shed),
		},
		holdEwmaMs: released > 0 ? sum((s) => s.holdEwmaMs * s.counters.released) / released : (shards[0]?.holdEwmaMs ?? 0),
		holds: {
			buckets: (shards[0]?.holds.buckets ?? []).map((_, i) => sum((s) => s.holds.buckets[i] ?? 0)),
			sumMs: sum((s) => s.holds.sumMs),
			count: sum((s) => s.holds.count),
		},
		busiestKeys: rankHolders(keys, BUSIEST_HOLDERS),
		reported: {
			localRefused: sum((s) => s.reported.localRefused),
			gaugeErrors: sum((s) => s.reported.gaugeErrors),
			failOpen: sum((s) => s.reported.failOpen),
			keyRefused: sum((s) => s.reported.keyRefused),
		},
		blocks: {
			held: sum((s) => s.blocks.held),
			spare: sum((s) => s.blocks.spare),
			refusedWithSpares: sum((s) => s.blocks.refusedWithSpares),
		},
		// Adaptive routes have one shard (the config checks it).
		adaptive: shards.length === 1 ? (shards[0]?.adaptive ?? null) : null,
		fair: mergeFair(shards),
		classes: mergeClasses(shards),
		// Each shard has its own queue; shard 0's mode stands for the route.
		queueMode: shards[0]?.queueMode ?? null,
	};
}

/** Per class, the shards' counts added up. */
function mergeClasses(shards: readonly GaugeStatus[]): GaugeStatus["classes"] {
	const stats = shards.map((s) => s.classes).filter((c) => c !== null);
	if (stats.length === 0) return null;
	// Shards may know of fewer classes (one that has seen only some of them since it started): the longest row counts.
	const add = (pick: (c: NonNullable<GaugeStatus["classes"]>) => number[]) =>
		Array.from({ length: Math.max(...stats.map((c) => pick(c).length)) }, (_, i) =>
			stats.reduce((total, c) => total + (pick(c)[i] ?? 0), 0),
		);
	return {
		inFlight: add((c) => c.inFlight),
		queued: add((c) => c.queued),
		admitted: add((c) => c.admitted),
		refused: add((c) => c.refused),
	};
}

/** Each shard shares its own part fairly: a key's share of the route is the sum of its shares there. */
function mergeFair(shards: readonly GaugeStatus[]): GaugeStatus["fair"] {
	const fair = shards.map((s) => s.fair).filter((f) => f !== null);
	if (fair.length === 0) return null;
	return {
		contended: fair.some((f) => f.contended),
		activeKeys: Math.max(...fair.map((f) => f.activeKeys)),
		fairShare: fair.reduce((total, f) => total + f.fairShare, 0),
	};
}

/**
 * The q-quantile estimated as Prometheus's histogram_quantile() does: find the bucket the rank falls in and
 * interpolate linearly between its bounds (the first bucket starts at 0), assuming holds spread evenly inside it.
 * Above the last finite bucket, its bound (as Prometheus). Null with no data. Rounded to 0.1 ms.
 */
export function percentile(h: HoldHistogram, q: number): number | null {
	if (h.count === 0) return null;
	const rank = q * h.count;
	const i = h.buckets.findIndex((cumulative) => cumulative >= rank);
	const upper = HOLD_BUCKETS_MS[i];
	if (upper === undefined) return HOLD_BUCKETS_MS[HOLD_BUCKETS_MS.length - 1] ?? null;
	const lower = i === 0 ? 0 : (HOLD_BUCKETS_MS[i - 1] ?? 0);
	const below = i === 0 ? 0 : (h.buckets[i - 1] ?? 0);
	const inside = (h.buckets[i] ?? 0) - below;
	const estimate = inside > 0 ? lower + ((upper - lower) * (rank - below)) / inside : upper;
	return Math.round(estimate * 10) / 10;
}
