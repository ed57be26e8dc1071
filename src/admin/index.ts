// The admin surface under ADMIN_PREFIX: guarded by ADMIN_TOKEN, never proxied to the origin.
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { Route } from "../config/parse.ts";
import { isolateCounters } from "../gate/isolate-counters.ts";
import { loadConfig } from "../gate/load-config.ts";
import { routeGauge } from "../gate/partition.ts";
import type { GateEnv } from "../gate/types.ts";
import { isAuthorized, unauthorized } from "./auth.ts";

const admin = new Hono<GateEnv>();
admin.use(loadConfig);

/** Per route: the configured limit, the gauge's live view, and what this isolate saw of the gauge failing. */
admin.get("/status", async function status(c) {
	const { routes, fallback } = c.var.config;
	const all: Route[] = fallback ? [...routes, fallback] : [...routes];
	const gauges = await Promise.all(
		all.map(async (route) => ({
			name: route.name,
			limit: route.limit,
			...(await c.env.GAUGE.getByName(routeGauge(route).objectName).status()),
			isolate: { ...isolateCounters(route.name) },
		})),
	);
	return c.json({ routes: gauges });
});

/** Answers requests under the admin prefix; everything else goes on to the gate. */
export const adminSurface = createMiddleware<GateEnv>(async function adminSurface(c, next) {
	const prefix = c.var.config.adminPrefix;
	const path = c.req.path;
	if (path !== prefix && !path.startsWith(`${prefix}/`)) return next();
	const token = c.env.ADMIN_TOKEN;
	if (!token) return c.text("Not found", 404);
	if (!(await isAuthorized(c.req.header("authorization"), token))) return unauthorized();
	const url = new URL(c.req.url);
	url.pathname = path.slice(prefix.length) || "/";
	return admin.fetch(new Request(url, c.req.raw), c.env, c.executionCtx);
});
