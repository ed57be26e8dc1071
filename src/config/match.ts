// Picks the route a request belongs to: the first rule that matches, else the default route.
import type { GateConfig, Route } from "./parse.ts";

/** Returns the request's route, or null when it matches no rule and the default is unlimited. */
export function matchRoute(config: GateConfig, method: string, url: string): Route | null {
	for (const route of config.routes) {
		if (route.methods && !route.methods.has(method)) continue;
		if (route.pattern?.test(url)) return route;
	}
	return config.fallback;
}
