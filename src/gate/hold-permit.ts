// Middleware: take the request's permits (its key's share, then its route's total) or refuse;
// give them back exactly once when the exchange ends.
import { createMiddleware } from "hono/factory";
import type { Route } from "../config/parse.ts";
import { acquireFirst, PermitGroup } from "../gauge/permit.ts";
import { logSampled } from "../log.ts";
import { deliveredLength, holdUntilDelivered } from "../proxy/hold.ts";
import type { LimitView } from "../responses/ratelimit-headers.ts";
import { setRateLimitHeaders } from "../responses/ratelimit-headers.ts";
import { gaugeUnavailable, retryAfterSeconds, tooManyRequests } from "../responses/refusal.ts";
import { sampling } from "./exchange-sample.ts";
import { isolateCounters } from "./isolate-counters.ts";
import { gaugesFor } from "./partition.ts";
import type { GateEnv } from "./types.ts";

/** Retry-After on a fail-closed 503: the gauge is usually back within a second. */
const UNAVAILABLE_RETRY_MS = 1_000;

/** Marks a response that dry-run mode admitted although a limit would have refused it. */
export const DRY_RUN_HEADER = "pressure-gauge-dry-run";

function deadlineFor(route: Route, clientGone: AbortSignal): AbortSignal {
	return AbortSignal.any([clientGone, AbortSignal.timeout(route.originTimeoutMs)]);
}

export const holdPermit = createMiddleware<GateEnv>(async function holdPermit(c, next) {
	const route = c.var.route;
	const clientGone = c.req.raw.signal;
	if (!route) {
		c.set("deadline", clientGone);
		return next();
	}

	const permits = new PermitGroup();
	const views: LimitView[] = [];
	let wouldRefuse = false;
	const waitUntil = (p: Promise<unknown>): void => c.executionCtx.waitUntil(p);
	const accept = c.req.header("accept") ?? null;
	for (const alternatives of await gaugesFor(c, route)) {
		const { spec, result } = await acquireFirst(c.env.GAUGE, alternatives, waitUntil, clientGone);
		if (result.kind === "granted") {
			permits.add(result.permit);
			views.push({ policy: spec.policy, limit: spec.quota, remaining: result.limit - result.inFlight });
		} else if (result.kind === "refused") {
			if (result.local) isolateCounters(route.name).localRefusals++;
			const view = { policy: spec.policy, limit: spec.quota, remaining: 0, resetSeconds: retryAfterSeconds(result.retryAfterMs) };
			views.push(view);
			if (route.dryRun) {
				wouldRefuse = true;
				continue;
			}
			await permits.release("refused-elsewhere");
			return tooManyRequests({
				retryAfterMs: result.retryAfterMs,
				accept,
				route: route.name,
				scope: spec.policy === route.name ? "route" : "key",
				views,
				withRateLimitHeaders: route.rateLimitHeaders !== "none",
			});
		} else {
			const counters = isolateCounters(route.name);
			counters.gaugeErrors++;
			if (route.failMode === "closed") {
				await permits.release("refused-elsewhere");
				return gaugeUnavailable(UNAVAILABLE_RETRY_MS, accept);
			}
			counters.failOpen++;
			logSampled("fail_open", route.name, { route: route.name });
		}
	}

	const deadline = deadlineFor(route, clientGone);
	c.set("deadline", deadline);
	try {
		await next();
	} catch (error) {
		await permits.release("worker-error");
		throw error;
	}
	const failure = c.error ? "worker-error" : c.var.upstreamFailure;
	// On an adaptive route, the release carries how the exchange with the origin went.
	const releasing = route.adaptive ? sampling(permits, c.var.exchange) : permits;
	if (failure) await releasing.release(failure);
	else if (!c.res.body) await releasing.release("no-body");
	else {
		const held = holdUntilDelivered(c.res.body, releasing, deadline, deliveredLength(c.res.headers));
		c.executionCtx.waitUntil(held.done);
		c.res = new Response(held.body, c.res);
	}
	if (route.rateLimitHeaders === "all") setRateLimitHeaders(c.res.headers, views);
	if (wouldRefuse) c.res.headers.set(DRY_RUN_HEADER, "would-refuse");
});
