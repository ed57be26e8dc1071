// Middleware: give the request its one canonical path, used for the admin prefix, the routes and the origin.
import { createMiddleware } from "hono/factory";
import { canonicalPath } from "../config/canonical-path.ts";
import { badRequest } from "../responses/refusal.ts";
import type { GateEnv } from "./types.ts";

/** A path with no safe canonical form (bad percent-encoding, NUL, a refused slash) is answered 400, never proxied. */
export const normalizePath = createMiddleware<GateEnv>(async function normalizePath(c, next) {
	const result = canonicalPath(new URL(c.req.url).pathname, c.var.config.paths);
	if (!result.ok) return badRequest(`The request path cannot be normalized safely: ${result.problem}.`, c.req.header("accept") ?? null);
	c.set("path", result.path);
	await next();
});
