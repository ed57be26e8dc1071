// The request path, in order: load config, normalize the path, (admin surface), match the route, hold a permit, proxy to the origin.
import type { Context } from "hono";
// hono/tiny routes with one RegExp per route: the gate has a handful, and the default preset's two
// routers (RegExpRouter + TrieRouter) cost 15 KB of the Worker's bundle (docs/development.md, "npm run check and the bundle budget").
import { Hono } from "hono/tiny";
import { log } from "../log.ts";
import { internalError } from "../responses/refusal.ts";
import { adminSurface } from "./admin/index.ts";
import { holdPermit } from "./hold-permit.ts";
import { loadConfig } from "./load-config.ts";
import { matchRoute } from "./match-route.ts";
import { normalizePath } from "./normalize-path.ts";
import { proxy } from "./proxy.ts";
import type { GateEnv } from "./types.ts";

export function createApp(): Hono<GateEnv> {
	const app = new Hono<GateEnv>();
	app.use(loadConfig, normalizePath, adminSurface, matchRoute, holdPermit);
	app.all("*", proxy);
	app.onError(onWorkerError);
	return app;
}

/** The truly unexpected (a bug): logged with its stack, answered 500 in the client's preferred format. */
export function onWorkerError(error: Error, c: Context<GateEnv>): Response {
	log("worker_error", { error: String(error), stack: error.stack });
	return internalError(c.req.header("accept") ?? null);
}
