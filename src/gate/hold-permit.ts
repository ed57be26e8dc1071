// Middleware: take a permit from the route's gauge, or refuse; give it back exactly once when the exchange ends.
import { createMiddleware } from "hono/factory";
import type { Route } from "../config/parse.ts";
import { acquirePermit, gaugeFor } from "../gauge/permit.ts";
import { logSampled } from "../log.ts";
import { deliveredLength, holdUntilDelivered } from "../proxy/hold.ts";
import { gaugeUnavailable, tooManyRequests } from "../responses/refusal.ts";
import { isolateCounters } from "./isolate-counters.ts";
import type { GateEnv } from "./types.ts";

/** Retry-After on a fail-closed 503: the gauge is usually back within a second. */
const UNAVAILABLE_RETRY_MS = 1_000;

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

	const result = await acquirePermit(gaugeFor(c.env.GAUGE, route), route, (p) => c.executionCtx.waitUntil(p));
	if (result.kind === "refused") return tooManyRequests(result.retryAfterMs);
	if (result.kind === "unavailable") {
		const counters = isolateCounters(route.name);
		counters.gaugeErrors++;
		if (route.failMode === "closed") return gaugeUnavailable(UNAVAILABLE_RETRY_MS);
		counters.failOpen++;
		logSampled("fail_open", route.name, { route: route.name });
		c.set("deadline", deadlineFor(route, clientGone));
		return next();
	}

	const { permit } = result;
	const deadline = deadlineFor(route, clientGone);
	c.set("deadline", deadline);
	try {
		await next();
	} catch (error) {
		await permit.release("worker-error");
		throw error;
	}
	const failure = c.error ? "worker-error" : c.var.upstreamFailure;
	if (failure) await permit.release(failure);
	else if (!c.res.body) await permit.release("no-body");
	else {
		const held = holdUntilDelivered(c.res.body, permit, deadline, deliveredLength(c.res.headers));
		c.executionCtx.waitUntil(held.done);
		c.res = new Response(held.body, c.res);
	}
});
