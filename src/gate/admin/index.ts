// The admin surface under ADMIN_PREFIX: guarded by ADMIN_TOKEN, never proxied to the origin.
import { createMiddleware } from "hono/factory";
import { Hono } from "hono/tiny";
import { routeGauges } from "../../core/partition.ts";
import { gaugeStub } from "../../isolate/stub.ts";
import { log } from "../../log.ts";
import { totalOf } from "../../object/layout.ts";
import { configInvalid } from "../../responses/refusal.ts";
import { brokenConfig, configFor } from "../load-config.ts";
import type { GateEnv } from "../types.ts";
import { isAuthorized, unauthorized } from "./auth.ts";
import { STATUS_PAGE } from "./page.ts";
import { PROMETHEUS_CONTENT_TYPE, toPrometheus } from "./prometheus.ts";
import { allRoutes, reportRoutes } from "./report.ts";

const admin = new Hono<GateEnv>();
// The config as the outer request saw it (parsed once per isolate): an invalid one has no routes, and its errors.
admin.use(async function adminConfig(c, next) {
	const result = configFor(c.env);
	c.set("config", result.ok ? result.config : brokenConfig(result));
	c.set("configErrors", result.ok ? [] : result.errors);
	await next();
});

admin.get("/status", async function status(c) {
	const { routes, fallback } = c.var.config;
	const errors = c.var.configErrors;
	return c.json({
		config: { valid: errors.length === 0, errors },
		routes: await reportRoutes(c.env.GAUGE, allRoutes(routes, fallback)),
	});
});

admin.get("/metrics", async function metrics(c) {
	const { routes, fallback } = c.var.config;
	const text = toPrometheus(await reportRoutes(c.env.GAUGE, allRoutes(routes, fallback)), c.var.configErrors.length === 0);
	return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
});

/**
 * Sets (PUT `{"limit": n}`) or clears (DELETE) a route's runtime limit, kept in its Durable Object. On an adaptive
 * route it pins the limit (the algorithm goes on learning meanwhile); clearing it hands the limit back.
 */
admin.on(["PUT", "DELETE"], "/routes/:name/limit", async function setLimit(c) {
	// No route is known while the config is invalid: the limit of none can be set.
	if (c.var.configErrors.length > 0) return configInvalid(c.req.header("accept") ?? null);
	const { routes, fallback } = c.var.config;
	const route = allRoutes(routes, fallback).find((r) => r.name === c.req.param("name"));
	if (!route) return c.json({ error: `no route named "${c.req.param("name")}"` }, 404);
	let limit: number | null = null;
	if (c.req.method === "PUT") {
		const NOT_JSON = Symbol("not JSON");
		const body: unknown = await c.req.json().catch(() => NOT_JSON);
		if (body === NOT_JSON) return c.json({ error: 'body: not JSON, expected {"limit": 20}' }, 400);
		const value = (body as { limit?: unknown } | undefined)?.limit;
		if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
			return c.json({ error: `limit: got ${JSON.stringify(value) ?? "nothing"}, expected an integer >= 1 (body: {"limit": 20})` }, 400);
		}
		limit = value;
	}
	// The route's total lives in its layout record (shard 0), which splits it into the shares in force.
	const gauges = routeGauges(route);
	const shard = gauges[0]?.shard;
	if (!shard) throw new Error(`route "${route.name}" has no shard 0`);
	const state = await gaugeStub(c.env.GAUGE, shard.record, route.locationHint).setLimit(limit, shard.layout);
	// Other shards learn it within COPY_TTL_MS anyway; asking them now makes it apply at once. That includes the
	// shards of another layout still running (a rollout): the record knows how many there are.
	const width = Math.max(gauges.length, state.shares.length, ...state.proposals.map((p) => p.shards));
	await Promise.all(
		Array.from({ length: width - 1 }, (_, i) => i + 1).map((index) =>
			gaugeStub(c.env.GAUGE, `${shard.record}#${index}`, route.locationHint).refreshLayout({ ...shard, index }),
		),
	);
	// Cleared on an adaptive route, the learned limit is back in force.
	const learned =
		route.adaptive && limit === null
			? (await gaugeStub(c.env.GAUGE, shard.record, route.locationHint).status(route.adaptive)).adaptive
			: null;
	const effective = learned?.limit ?? (state.shares.length > 0 ? totalOf(state.shares) : (limit ?? route.limit));
	log("limit_changed", {
		route: route.name,
		configured: route.limit,
		override: limit,
		effective,
		...(route.adaptive ? { adaptive: true } : {}),
	});
	return c.json({ route: route.name, limit: { configured: route.limit, effective, override: limit } });
});

/** Answers requests under the admin prefix; everything else goes on to the gate. */
export const adminSurface = createMiddleware<GateEnv>(async function adminSurface(c, next) {
	const prefix = c.var.config.adminPrefix;
	// The canonical path: "/__gau%67e/status" is the admin surface too, never proxied.
	const path = c.var.path;
	if (path !== prefix && !path.startsWith(`${prefix}/`)) {
		// Only the admin surface answers while the config is invalid (loadConfig lets nothing else through).
		return c.var.configErrors.length > 0 ? configInvalid(c.req.header("accept") ?? null) : next();
	}
	const token = c.env.ADMIN_TOKEN;
	if (!token) return c.text("Not found", 404);
	const sub = path.slice(prefix.length) || "/";
	// The page holds no data: it asks for the token, then reads the guarded endpoints with it.
	if (sub === "/" && c.req.method === "GET") return c.html(STATUS_PAGE);
	if (!(await isAuthorized(c.req.header("authorization"), token))) return unauthorized();
	const url = new URL(c.req.url);
	url.pathname = sub;
	return admin.fetch(new Request(url, c.req.raw), c.env, c.executionCtx);
});
