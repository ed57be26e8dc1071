// Which gauges a request must pass: its key's share (when the route sets perKey), then the route's total.

import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { KeySource, Route } from "../config/parse.ts";
import type { GaugeSpec } from "../gauge/permit.ts";
import type { GateEnv } from "./types.ts";

/** Keyless requests under `missing = "shared"` count against this one partition. */
export const MISSING_KEY = "\u0000missing";

/**
 * The request's partition key, or null when it has none. The client IP comes from CF-Connecting-IP,
 * which Cloudflare sets and clients cannot; X-Forwarded-For is never read (a client can write anything).
 */
export function partitionKey(c: Context<GateEnv>, source: KeySource): string | null {
	const value =
		source.kind === "ip"
			? c.req.header("cf-connecting-ip")
			: source.kind === "header"
				? c.req.header(source.name)
				: getCookie(c, source.name);
	return value === undefined || value === "" ? null : value;
}

/**
 * A Durable Object name for a key: a SHA-256 digest, so a key of any length or bytes makes a short,
 * fixed-size name, and keys are not stored or shown in clear.
 */
export async function keyObjectName(route: string, key: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
	const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
	return `key:${route}:${hex.slice(0, 32)}`;
}

export function routeGauge(route: Route): GaugeSpec {
	return {
		objectName: `route:${route.name}`,
		policy: route.name,
		limit: route.limit,
		maxHoldMs: route.maxHoldMs,
		queue: route.queue,
		dryRun: route.dryRun,
	};
}

/** The gauges in the order they are asked: the key's (never queued), then the route's. */
export async function gaugesFor(c: Context<GateEnv>, route: Route): Promise<GaugeSpec[]> {
	const total = routeGauge(route);
	const perKey = route.perKey;
	if (!perKey) return [total];
	const key = partitionKey(c, perKey.by);
	if (key === null && perKey.missing === "route-only") return [total];
	const share: GaugeSpec = {
		objectName: await keyObjectName(route.name, key ?? MISSING_KEY),
		policy: `${route.name}.per-key`,
		limit: perKey.limit,
		maxHoldMs: route.maxHoldMs,
		queue: null,
		dryRun: route.dryRun,
	};
	return [share, { ...total, holder: share.objectName }];
}
