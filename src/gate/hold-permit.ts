// Middleware: the gate's use of the core: take the matched route's permits or refuse, hold them around the
// origin's response (src/core/), and tell the proxy the exchange's deadline.
import { createMiddleware } from "hono/factory";
import { acquire } from "../core/acquire.ts";
import { deadlineFor, holdResponse } from "../core/hold-response.ts";
import { refusalResponse } from "../core/refusal-response.ts";
import { gaugeNamespace } from "../isolate/stub.ts";
import type { GateEnv } from "./types.ts";

export { DRY_RUN_HEADER } from "../core/hold-response.ts";

export const holdPermit = createMiddleware<GateEnv>(async function holdPermit(c, next) {
	const route = c.var.route;
	const clientGone = c.req.raw.signal;
	if (!route) {
		c.set("deadline", clientGone);
		return next();
	}
	const waitUntil = (p: Promise<unknown>): void => c.executionCtx.waitUntil(p);
	const admission = await acquire(route, { ns: gaugeNamespace(c.env.GAUGE), request: c.req.raw, waitUntil, path: c.var.path });
	if (!admission.ok) return refusalResponse(admission.refusal, c.req.raw, route);

	const deadline = deadlineFor(route, clientGone);
	c.set("deadline", deadline);
	try {
		await next();
	} catch (error) {
		await admission.permits.release("worker-error");
		throw error;
	}
	const failure = c.error ? "worker-error" : c.var.upstreamFailure;
	const held = await holdResponse(c.res, admission, route, { deadline, waitUntil, failure, exchange: c.var.exchange });
	// Hono's c.res setter copies the old response's headers onto the new one, and rebuilds it (dropping a 101's
	// webSocket): clear it first. (The origin's Sec-WebSocket-Accept and -Extensions must not come back.)
	c.res = undefined;
	c.res = held;
});
