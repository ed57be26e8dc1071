// The request path, in order: load config, normalize the path, (admin surface), match the route, hold a permit, proxy to the origin.
import { Hono } from "hono";
import { adminSurface } from "./admin/index.ts";
import { holdPermit } from "./gate/hold-permit.ts";
import { loadConfig } from "./gate/load-config.ts";
import { matchRoute } from "./gate/match-route.ts";
import { normalizePath } from "./gate/normalize-path.ts";
import { proxy } from "./gate/proxy.ts";
import type { GateEnv } from "./gate/types.ts";
import { log } from "./log.ts";

export function createApp(): Hono<GateEnv> {
	const app = new Hono<GateEnv>();
	app.use(loadConfig, normalizePath, adminSurface, matchRoute, holdPermit);
	app.all("*", proxy);
	app.onError(function onError(error, c) {
		log("worker_error", { error: String(error), stack: error.stack });
		return c.text("Internal error", 500);
	});
	return app;
}
