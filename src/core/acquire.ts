// Takes a request's permits in order (its key's share, then its route's total), or says why not, as a value: the
// one implementation of admission that the standalone gate, the Hono middleware and the fetch wrapper share.
import type { Route } from "../config/parse.ts";
import type { GaugeNamespace } from "../gauge-rpc.ts";
import { isWebSocketUpgrade } from "../hold/websocket.ts";
import type { IsolateCounters } from "../isolate/isolate-counters.ts";
import { isolateCounters, localClassRefusals } from "../isolate/isolate-counters.ts";
import { acquireFirst, PermitGroup } from "../isolate/permit.ts";
import type { WaitUntil } from "../isolate/permit-types.ts";
import { scheduleReport } from "../isolate/reports.ts";
import { logSampled } from "../log.ts";
import type { LimitView } from "../responses/ratelimit-headers.ts";
import { retryAfterSeconds } from "../responses/refusal.ts";
import { classify } from "./classify.ts";
import { gaugesFor } from "./partition.ts";

/** Retry-After on a fail-closed 503: the gauge is usually back within a second. */
export const UNAVAILABLE_RETRY_MS = 1_000;

/** Why a request got no permit. Only the response layer (refusal-response.ts, or a face's onRefused) makes it a status. */
export type Refusal =
	/** A limit is full (and its queue, if any, full or timed out): 429 by default. */
	| {
			readonly kind: "limited";
			/** Which limit refused: the route's total, the share of the request's key (perKey), or its priority class's cap. */
			readonly scope: "route" | "key" | "class";
			readonly route: string;
			readonly retryAfterMs: number;
			/** Every limit that applied so far; the one that refused has remaining 0 (RateLimit fields). */
			readonly views: readonly LimitView[];
	  }
	/** The gauge's Durable Object could not answer and the route fails closed: 503 by default. */
	| { readonly kind: "unavailable"; readonly route: string; readonly retryAfterMs: number }
	/** The client went away before the request was admitted: nobody reads the answer (499 by default). */
	| { readonly kind: "cancelled"; readonly route: string }
	/** A WebSocket upgrade on a route with websocket = "refuse": 403 by default. */
	| { readonly kind: "websocket-refused"; readonly route: string };

/** What admission gave: the request's permits, held until `release` (idempotent) or a hold gives them back. */
export interface Admitted {
	readonly permits: PermitGroup;
	/** The limits that applied, for RateLimit fields on the response (rateLimitHeaders = "all"). */
	readonly views: readonly LimitView[];
	/** Dry-run: a limit would have refused, and the request was let through. */
	readonly wouldRefuse: boolean;
}

export type Admission = ({ readonly ok: true } & Admitted) | { readonly ok: false; readonly refusal: Refusal };

/** What admission needs from the request and its runtime. */
export interface AdmissionInput {
	readonly ns: GaugeNamespace;
	readonly request: Request;
	readonly waitUntil: WaitUntil;
	/** The request's key from a face's key function; undefined: read as the route's perKey.by says. */
	readonly key?: string | null | undefined;
	/** The request's priority class (an index into route.classes) a face's function chose; undefined: by the config's matches. */
	readonly priority?: number | undefined;
	/** The request's canonical path (the gate's): class matches read it instead of the raw URL's. */
	readonly path?: string | undefined;
}

/**
 * Takes the request's permits, or refuses. Whatever was taken goes back if the request is refused later on, if the
 * runtime cancels the handler mid-acquire (the client left), or if acquiring throws: a permit is released exactly once.
 */
export async function acquire(route: Route, input: AdmissionInput): Promise<Admission> {
	const { request, waitUntil } = input;
	if (route.websocket === "refuse" && isWebSocketUpgrade(request))
		return { ok: false, refusal: { kind: "websocket-refused", route: route.name } };
	const clientGone = request.signal;
	const permits = new PermitGroup();
	const taking = takePermits(route, input, permits);
	// The runtime may cancel this handler when the client leaves mid-acquire: what was granted still goes back.
	waitUntil(
		taking.then(
			(taken) => (taken.ok && clientGone.aborted ? permits.release("abandoned") : undefined),
			() => permits.release("worker-error"),
		),
	);
	const taken = await taking;
	if (taken.ok && clientGone.aborted) return { ok: false, refusal: { kind: "cancelled", route: route.name } };
	return taken;
}

/** Adds each permit to `permits` the moment it is granted, so whoever holds the group can give back what was taken. */
async function takePermits(route: Route, input: AdmissionInput, permits: PermitGroup): Promise<Admission> {
	const { ns, request, waitUntil } = input;
	const clientGone = request.signal;
	const views: LimitView[] = [];
	let wouldRefuse = false;
	// What this isolate decides without the route's object reaches the object in batches, counted once there.
	const counted = (what: keyof IsolateCounters): void => {
		isolateCounters(route.name)[what]++;
		scheduleReport(ns, route, waitUntil);
	};
	// A held WebSocket keeps its permit for hours and renews it alone: it takes a lease of its own, never a block's.
	const single = route.websocket === "hold" && isWebSocketUpgrade(request);
	const priority = route.classes
		? { index: classify(request, route.classes, input.priority, input.path), headrooms: route.classes.list.map((c) => c.headroom) }
		: null;
	for (const gauges of await gaugesFor(request, route, input.key)) {
		// The class goes to the route's objects, which hold each class to its cap; a key's own object has no classes.
		const alternatives = priority ? gauges.map((g) => (g.policy === route.name ? { ...g, priority } : g)) : gauges;
		const { spec, result } = await acquireFirst(ns, alternatives, waitUntil, clientGone, single);
		if (result.kind === "granted") {
			permits.add(result.permit);
			// q and r from the same limit: the quota in force; r is what the answering object has free (on a
			// sharded route, a lower bound: other shards may have more).
			const remaining = Math.min(result.quota, result.limit - result.inFlight);
			views.push({ policy: spec.policy, limit: result.quota, remaining });
		} else if (result.kind === "refused") {
			// A fair route's object refuses a key over its share as the key's limit, though the route's object said it.
			const byRoute = spec.policy === route.name;
			const scope = result.classFull ? "class" : byRoute && !result.overShare ? "route" : "key";
			// Counted once: by the route's object when it answered, else here (a refusal from this isolate's memory of
			// the route's object, or a key's own object's). A dry run refuses nothing: its would-be refusals are the objects'.
			if (!route.dryRun) {
				if (result.local) counted(byRoute ? "localRefusals" : "keyRefusals");
				else if (!byRoute) counted("keyRefusals");
				if (result.local && byRoute && priority) {
					const byClass = localClassRefusals(route.name);
					byClass[priority.index] = (byClass[priority.index] ?? 0) + 1;
				}
			}
			views.push({ policy: spec.policy, limit: result.quota, remaining: 0, resetSeconds: retryAfterSeconds(result.retryAfterMs) });
			if (route.dryRun) {
				wouldRefuse = true;
				continue;
			}
			await permits.release("refused-elsewhere");
			return { ok: false, refusal: { kind: "limited", scope, route: route.name, retryAfterMs: result.retryAfterMs, views } };
		} else if (result.kind === "cancelled") {
			await permits.release("abandoned");
			return { ok: false, refusal: { kind: "cancelled", route: route.name } };
		} else {
			counted("gaugeErrors");
			if (route.failMode === "closed") {
				await permits.release("refused-elsewhere");
				return { ok: false, refusal: { kind: "unavailable", route: route.name, retryAfterMs: UNAVAILABLE_RETRY_MS } };
			}
			counted("failOpen");
			logSampled("fail_open", route.name, { route: route.name });
		}
	}
	return { ok: true, permits, views, wouldRefuse };
}
