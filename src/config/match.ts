// Picks the route a request belongs to: the first rule that matches, else the default route.
import type { GateConfig, Route } from "./parse.ts";

/**
 * Returns the request's route, or null when it matches no rule and the default is unlimited.
 * `path` is the request's canonical path (src/config/canonical-path.ts); the query is never matched.
 * The method is matched upper-cased: methods are case-sensitive (RFC 9110 §9.1), but an origin that
 * ignores case would serve "patch" as PATCH, so "patch" must not dodge a PATCH route.
 */
export function matchRoute(config: GateConfig, method: string, url: string, path = new URL(url).pathname): Route | null {
	const verb = method.toUpperCase();
	const hostname = new URL(url).hostname;
	const paths = config.paths.trailingSlash === "either" ? [path, trailingSlashTwin(path)] : [path];
	for (const route of config.routes) {
		if (route.methods && !route.methods.has(verb)) continue;
		if (paths.some((pathname) => route.pattern?.test({ hostname, pathname }))) return route;
	}
	return config.fallback;
}

/**
 * The same path with one trailing slash more or less. Many origins (Express, Spring before 6, Rails)
 * serve both alike, so both are gated alike; the path sent on is still the one the client sent.
 */
function trailingSlashTwin(path: string): string {
	if (path === "/") return path;
	return path.endsWith("/") ? path.slice(0, -1) : `${path}/`;
}
