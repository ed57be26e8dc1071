// The request path, in order: load config, normalize the path, (admin surface), match the route, hold a permit, proxy to the origin.
import type { Context } from "hono";
// hono/tiny routes with one RegExp per route: the gate has a handful, and the default preset's two
// routers (RegExpRouter + TrieRouter) cost 15 KB of the Worker's bundle (README, "Dependencies, and why each is there": the bundle budget).
import { Hono } from "hono/tiny";
import { adminSurface } from "./admin/index.ts";
import { holdPermit } from "./gate/hold-permit.ts";
import { loadConfig } from "./gate/load-config.ts";
import { matchRoute } from "./gate/match-route.ts";
import { normalizePath } from "./gate/normalize-path.ts";
import { proxy } from "./gate/proxy.ts";
import type { GateEnv } from "./gate/types.ts";
import { log } from "./log.ts";
import { internalError } from "./responses/refusal.ts";

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
