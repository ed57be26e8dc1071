// What the admin surface reports per route, gathered once and shown as JSON, Prometheus text or a page.
import type { Route } from "../config/parse.ts";
import type { IsolateCounters } from "../gate/isolate-counters.ts";
import { isolateCounters } from "../gate/isolate-counters.ts";
import { routeGauge } from "../gate/partition.ts";
import type { Gauge, GaugeStatus } from "../gauge/durable-object.ts";
import type { HoldHistogram } from "../gauge/lease-table.ts";
import { HOLD_BUCKETS_MS } from "../gauge/lease-table.ts";

export interface RouteReport extends Omit<GaugeStatus, "limitOverride"> {
	readonly name: string;
	readonly limit: { readonly configured: number; readonly effective: number; readonly override: number | null };
	/** Hold-time percentiles in ms, as the upper bound of the histogram bucket they fall in (null: none yet or above the top bucket). */
	readonly holdMs: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null };
	/** This isolate's view of the gauge failing. */
	readonly isolate: IsolateCounters;
}

export function allRoutes(routes: readonly Route[], fallback: Route | null): Route[] {
	return fallback ? [...routes, fallback] : [...routes];
}

export async function reportRoutes(ns: DurableObjectNamespace<Gauge>, routes: readonly Route[]): Promise<RouteReport[]> {
	return Promise.all(
		routes.map(async (route) => {
			const { limitOverride, ...status } = await ns.getByName(routeGauge(route).objectName).status();
			return {
				name: route.name,
				...status,
				limit: { configured: route.limit, effective: limitOverride ?? route.limit, override: limitOverride },
				holdMs: { p50: percentile(status.holds, 0.5), p90: percentile(status.holds, 0.9), p99: percentile(status.holds, 0.99) },
				isolate: { ...isolateCounters(route.name) },
			};
		}),
	);
}

/** The upper bound of the bucket holding the q-quantile; null with no data or beyond the last finite bucket. */
export function percentile(h: HoldHistogram, q: number): number | null {
	if (h.count === 0) return null;
	const rank = q * h.count;
	const i = h.buckets.findIndex((cumulative) => cumulative >= rank);
	return HOLD_BUCKETS_MS[i] ?? null;
}
