// Takes a request's permits in order (its key's share, then its route's total), or decides its answer
// without the origin: a refusal, an unavailable gauge, or a client already gone.
import type { Context } from "hono";
import type { Route } from "../config/parse.ts";
import type { IsolateCounters } from "../isolate/isolate-counters.ts";
import { isolateCounters } from "../isolate/isolate-counters.ts";
import type { PermitGroup } from "../isolate/permit.ts";
import { acquireFirst } from "../isolate/permit.ts";
import type { WaitUntil } from "../isolate/permit-types.ts";
import { scheduleReport } from "../isolate/reports.ts";
import { gaugeNamespace } from "../isolate/stub.ts";
import { logSampled } from "../log.ts";
import type { LimitView } from "../responses/ratelimit-headers.ts";
import { clientClosedRequest, gaugeUnavailable, retryAfterSeconds, tooManyRequests } from "../responses/refusal.ts";
import { isWebSocketUpgrade } from "./forward.ts";
import { gaugesFor } from "./partition.ts";
import type { GateEnv } from "./types.ts";

/** Retry-After on a fail-closed 503: the gauge is usually back within a second. */
const UNAVAILABLE_RETRY_MS = 1_000;

export type Taken =
	/** Every limit passed (or, in dry-run or failing open, was let pass): go on to the origin. */
	| { readonly kind: "admitted"; readonly views: readonly LimitView[]; readonly wouldRefuse: boolean }
	/** Answered here; every permit taken so far has been given back. */
	| { readonly kind: "answered"; readonly response: Response };

/**
 * Adds each permit to `permits` the moment it is granted, so whoever holds the group can give back what was
 * taken however this ends (the caller hands that to waitUntil: the runtime may cancel a request whose client left).
 */
export async function takePermits(c: Context<GateEnv>, route: Route, permits: PermitGroup, waitUntil: WaitUntil): Promise<Taken> {
	const clientGone = c.req.raw.signal;
	const accept = c.req.header("accept") ?? null;
	const views: LimitView[] = [];
	let wouldRefuse = false;
	// What this isolate decides without the route's object reaches the object in batches, counted once there.
	const counted = (what: keyof IsolateCounters): void => {
		isolateCounters(route.name)[what]++;
		scheduleReport(gaugeNamespace(c.env.GAUGE), route, waitUntil);
	};
	// A held WebSocket keeps its permit for hours and renews it alone: it takes a lease of its own, never a block's.
	const single = route.websocket === "hold" && isWebSocketUpgrade(c.req.raw);
	for (const alternatives of await gaugesFor(c, route)) {
		const { spec, result } = await acquireFirst(gaugeNamespace(c.env.GAUGE), alternatives, waitUntil, clientGone, single);
		if (result.kind === "granted") {
			permits.add(result.permit);
			// q and r from the same limit: the quota in force; r is what the answering object has free (on a
			// sharded route, a lower bound: other shards may have more).
			const remaining = Math.min(result.quota, result.limit - result.inFlight);
			views.push({ policy: spec.policy, limit: result.quota, remaining });
		} else if (result.kind === "refused") {
			if (result.local) counted("localRefusals");
			views.push({ policy: spec.policy, limit: result.quota, remaining: 0, resetSeconds: retryAfterSeconds(result.retryAfterMs) });
			if (route.dryRun) {
				wouldRefuse = true;
				continue;
			}
			await permits.release("refused-elsewhere");
			return {
				kind: "answered",
				response: tooManyRequests({
					retryAfterMs: result.retryAfterMs,
					accept,
					route: route.name,
					scope: spec.policy === route.name ? "route" : "key",
					views,
					withRateLimitHeaders: route.rateLimitHeaders !== "none",
				}),
			};
		} else if (result.kind === "cancelled") {
			await permits.release("abandoned");
			return { kind: "answered", response: clientClosedRequest() };
		} else {
			counted("gaugeErrors");
			if (route.failMode === "closed") {
				await permits.release("refused-elsewhere");
				return { kind: "answered", response: gaugeUnavailable(UNAVAILABLE_RETRY_MS, accept) };
			}
			counted("failOpen");
			logSampled("fail_open", route.name, { route: route.name });
		}
	}
	return { kind: "admitted", views, wouldRefuse };
}
