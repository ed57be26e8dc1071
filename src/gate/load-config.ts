// Middleware: parse and validate the config once per isolate; while it is invalid, proxy nothing and let only the
// admin surface answer, to report the errors.
import { createMiddleware } from "hono/factory";
import { canonicalPath } from "../config/canonical-path.ts";
import type { GateConfig, ParseResult } from "../config/parse.ts";
import { parseConfig } from "../config/parse.ts";
import { log } from "../log.ts";
import { configInvalid } from "../responses/refusal.ts";
import type { Bindings, GateEnv } from "./types.ts";

const parsed = new WeakMap<Bindings, ParseResult>();

/** Parses env once per isolate (env is the same object for every request an isolate serves). */
export function configFor(env: Bindings): ParseResult {
	let result = parsed.get(env);
	if (!result) {
		result = parseConfig(env);
		if (!result.ok) log("config_invalid", { errors: result.errors });
		parsed.set(env, result);
	}
	return result;
}

/** What is left of an invalid config: no route and no origin, so nothing can be gated or proxied with it. */
export function brokenConfig(result: Extract<ParseResult, { ok: false }>): GateConfig {
	return { origin: null, adminPrefix: result.adminPrefix, paths: result.paths, routes: [], fallback: null };
}

/**
 * A bad config never proxies: every request gets a 500 until it is fixed. The admin surface (its own secret, so
 * a broken LIMITS cannot open it) still answers under its prefix, so /status can say what is wrong.
 */
export const loadConfig = createMiddleware<GateEnv>(async function loadConfig(c, next) {
	const result = configFor(c.env);
	if (result.ok) {
		c.set("config", result.config);
		c.set("configErrors", []);
		return next();
	}
	const path = canonicalPath(new URL(c.req.url).pathname, result.paths);
	const prefix = result.adminPrefix;
	const admin = path.ok && (path.path === prefix || path.path.startsWith(`${prefix}/`));
	if (!admin || !c.env.ADMIN_TOKEN) return configInvalid(c.req.header("accept") ?? null);
	c.set("config", brokenConfig(result));
	c.set("configErrors", result.errors);
	await next();
});
