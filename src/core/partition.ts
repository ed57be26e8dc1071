// Which gauges a request must pass: its key's share (when the route sets perKey), then the route's total.
import type { KeySource, Route } from "../config/parse.ts";
import { blockSettings } from "../isolate/block-settings.ts";
import type { GaugeSpec } from "../isolate/permit-types.ts";
import type { AcquireRequest } from "../protocol.ts";
import { shareOf } from "../protocol.ts";

/** Keyless requests under `missing = "shared"` count against this one partition. */
export const MISSING_KEY = "\u0000missing";

/**
 * The request's partition key, or null when it has none. The client IP comes from CF-Connecting-IP,
 * which Cloudflare sets and clients cannot; X-Forwarded-For is never read (a client can write anything).
 */
export function partitionKey(request: Request, source: KeySource): string | null {
	const value =
		source.kind === "ip"
			? request.headers.get("cf-connecting-ip")
			: source.kind === "header"
				? request.headers.get(source.name)
				: cookieValue(request.headers.get("cookie"), source.name);
	return value === null || value === "" ? null : value;
}

/**
 * One cookie's value from a Cookie header (RFC 6265 §5.4), read as hono/cookie's getCookie reads it (quotes
 * stripped, percent-decoded when it can be), without hono: the core runs under any face.
 */
export function cookieValue(header: string | null, name: string): string | null {
	if (!header) return null;
	for (const pair of header.split(";")) {
		const eq = pair.indexOf("=");
		if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
		let value = pair.slice(eq + 1).trim();
		if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
		try {
			return value.includes("%") ? decodeURIComponent(value) : value;
		} catch {
			return value;
		}
	}
	return null;
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

/** Built once per route (routes live as long as the isolate's parsed config), not on every request. */
const gaugesOfRoute = new WeakMap<Route, readonly GaugeSpec[]>();

/** Every Durable Object of the route: shard 0 is `route:<name>` (the only one when unsharded), then `route:<name>#<i>`. */
export function routeGauges(route: Route): readonly GaugeSpec[] {
	let specs = gaugesOfRoute.get(route);
	if (!specs) {
		specs = buildRouteGauges(route);
		gaugesOfRoute.set(route, specs);
	}
	return specs;
}

function buildRouteGauges(route: Route): GaugeSpec[] {
	const record = `route:${route.name}`;
	// The objects grant against the route's layout record (shares in force), which this config's layout feeds.
	const layout = { total: route.limit, shards: route.shards, leaseMs: route.maxHoldMs };
	const queue = waitQueue(route);
	return Array.from({ length: route.shards }, (_, index) => ({
		objectName: index === 0 ? record : `${record}#${index}`,
		policy: route.name,
		quota: route.limit,
		limit: shareOf(route.limit, route.shards, index),
		maxHoldMs: route.maxHoldMs,
		queue: queue
			? {
					size: Math.ceil(queue.size / route.shards),
					maxWaitMs: queue.maxWaitMs,
					...(queue.adaptive ? { adaptive: codelRequest(queue.adaptive) } : {}),
				}
			: null,
		dryRun: route.dryRun,
		shard: { index, record, layout },
		cutGraceMs: route.cutGraceMs,
		...(route.adaptive ? { adaptive: route.adaptive } : {}),
		...(route.perKey?.fair ? { fair: true } : {}),
		blocks: blockSettings(route, shareOf(route.limit, route.shards, index)),
		...(route.locationHint ? { locationHint: route.locationHint } : {}),
	}));
}

/** CoDel's settings as the object takes them: a fixed number is sent, "auto" is left out (the object scales it to the hold time). */
function codelRequest(
	adaptive: NonNullable<NonNullable<Route["queue"]>["adaptive"]>,
): NonNullable<NonNullable<AcquireRequest["queue"]>["adaptive"]> {
	return {
		...(adaptive.targetMs === "auto" ? {} : { targetMs: adaptive.targetMs }),
		...(adaptive.intervalMs === "auto" ? {} : { intervalMs: adaptive.intervalMs }),
	};
}

/** The route's queue, if requests may wait: never in dry-run, which must change nothing a client sees. */
function waitQueue(route: Route): Route["queue"] {
	return route.dryRun ? null : route.queue;
}

/**
 * How long a key's lease lives: a key's permit is taken before its request waits in the route's queue, so
 * its lease covers that wait too, and still outlives the request's deadline by as much as a route lease.
 */
export function keyLeaseMs(route: Route): number {
	return route.maxHoldMs + (waitQueue(route)?.maxWaitMs ?? 0);
}

/**
 * The limits a request must pass, in order: its key's fixed share (never queued) when perKey.limit is set, then the
 * route's total (which also holds the key to its fair share on a fair route).
 * Each is a list of alternatives tried in turn until one grants: for a sharded route, a random shard and,
 * if it refuses, one other.
 */
export async function gaugesFor(
	request: Request,
	route: Route,
	/** The key a face's key function gave (perKey.by as a function); undefined: read it as perKey.by says. */
	given?: string | null,
	random: () => number = Math.random,
): Promise<(readonly GaugeSpec[])[]> {
	const shards = routeGauges(route);
	const first = Math.floor(random() * shards.length);
	const other = (first + 1 + Math.floor(random() * (shards.length - 1))) % shards.length;
	const total = shards.length === 1 ? shards : [shards[first], shards[other]].filter((g): g is GaugeSpec => g !== undefined);
	const perKey = route.perKey;
	if (!perKey) return [total];
	const key = given === undefined ? partitionKey(request, perKey.by) : given === "" ? null : given;
	if (key === null && perKey.missing === "route-only") return [total];
	const holder = await keyObjectName(route.name, key ?? MISSING_KEY);
	const held = total.map((g) => ({ ...g, holder }));
	// A fair route without a fixed ceiling needs no key object: the route's object holds each key to its share.
	if (perKey.limit === null) return [held];
	return [[await keyShare(route, perKey, key ?? MISSING_KEY)], held];
}

/** The gauge of one key's share of the route (its own Durable Object, never queued, near the origin as the route's). */
export async function keyShare(route: Route, perKey: NonNullable<Route["perKey"]>, key: string): Promise<GaugeSpec> {
	return {
		objectName: await keyObjectName(route.name, key),
		policy: `${route.name}.per-key`,
		// Only asked when the key has a fixed ceiling (gaugesFor); the route's limit is the most it could mean otherwise.
		quota: perKey.limit ?? route.limit,
		limit: perKey.limit ?? route.limit,
		maxHoldMs: keyLeaseMs(route),
		queue: null,
		dryRun: route.dryRun,
		cutGraceMs: route.cutGraceMs,
		...(route.locationHint ? { locationHint: route.locationHint } : {}),
	};
}
