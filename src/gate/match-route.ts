// Middleware: find the request's route (first rule that matches, else the default).
import { createMiddleware } from "hono/factory";
import { matchRoute as pickRoute } from "../config/match.ts";
import { loopDetected } from "../responses/refusal.ts";
import { hasPassedThisGate } from "./forward.ts";
import type { GateEnv } from "./types.ts";

export const matchRoute = createMiddleware<GateEnv>(async function matchRoute(c, next) {
	if (hasPassedThisGate(c.req.raw)) return loopDetected(c.req.header("accept") ?? null);
	c.set("route", pickRoute(c.var.config, c.req.method, c.req.url, c.var.path));
	await next();
});
