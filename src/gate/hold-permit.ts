// Middleware: take the request's permits (its key's share, then its route's total) or refuse;
// give them back exactly once when the exchange ends.
import { createMiddleware } from "hono/factory";
import type { Route } from "../config/parse.ts";
import { heldResponse } from "../hold/hold-native.ts";
import { holdUntilClosed } from "../hold/websocket.ts";
import { sampling } from "../isolate/exchange-sample.ts";
import { PermitGroup } from "../isolate/permit.ts";
import { setRateLimitHeaders } from "../responses/ratelimit-headers.ts";
import { clientClosedRequest, upgradeRefused } from "../responses/refusal.ts";
import { isWebSocketUpgrade } from "./forward.ts";
import { takePermits } from "./take-permits.ts";
import type { GateEnv } from "./types.ts";

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
	if (route.websocket === "refuse" && isWebSocketUpgrade(c.req.raw)) return upgradeRefused(c.req.header("accept") ?? null);

	const permits = new PermitGroup();
	const waitUntil = (p: Promise<unknown>): void => c.executionCtx.waitUntil(p);
	const taking = takePermits(c, route, permits, waitUntil);
	// The runtime may cancel this handler when the client leaves mid-acquire: what was granted still goes back.
	waitUntil(
		taking.then(
			(taken) => (taken.kind === "admitted" && clientGone.aborted ? permits.release("abandoned") : undefined),
			() => permits.release("worker-error"),
		),
	);
	const taken = await taking;
	if (taken.kind === "answered") return taken.response;
	if (clientGone.aborted) return clientClosedRequest();
	const { views, wouldRefuse } = taken;

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
	else if (c.res.webSocket && route.websocket === "hold" && permits.size > 0) {
		// Hono's c.res setter copies the old response's headers onto the new one; clear it first, or the origin's
		// Sec-WebSocket-Accept and -Extensions (which the relay's own 101 leaves out) would come back.
		const upgraded = c.res;
		c.res = undefined;
		c.res = holdUntilClosed(upgraded, permits, route.maxHoldMs);
	} else if (!c.res.body) await releasing.release("no-body");
	else c.res = await heldResponse(c.res, releasing, deadline, waitUntil);
	if (route.rateLimitHeaders === "all") setRateLimitHeaders(c.res.headers, views);
	if (wouldRefuse) c.res.headers.set(DRY_RUN_HEADER, "would-refuse");
});
