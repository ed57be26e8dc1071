// Middleware: parse and validate the config once per isolate; refuse everything while it is invalid.
import { createMiddleware } from "hono/factory";
import type { ParseResult } from "../config/parse.ts";
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

/** A bad config never proxies: every request gets a 500 until it is fixed. */
export const loadConfig = createMiddleware<GateEnv>(async function loadConfig(c, next) {
	const result = configFor(c.env);
	if (!result.ok) return configInvalid(c.req.header("accept") ?? null);
	c.set("config", result.config);
	await next();
});
