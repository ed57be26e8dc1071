// The library's options: a route's settings as values, checked by the same parser as the gate's LIMITS (src/config/),
// once, when a face is built; every problem is reported at once, naming the field, the value and what was expected.
import type { AdaptiveSettings } from "../adaptive/settings.ts";
import type { Route } from "../config/parse.ts";
import { parseConfig } from "../config/parse.ts";
import type { LocationHint } from "../config/schema.ts";
import type { Refusal } from "./acquire.ts";
import { classifyWith } from "./classify.ts";

/** Where a request's perKey key comes from: a header, a cookie, the client IP, or a function of the request's context. */
export type KeySource<C> =
	| "ip"
	| `header:${string}`
	| `cookie:${string}`
	/** The key (empty, null or undefined: the request has none, see `missing`). Called once per gated request. */
	| ((context: C) => string | null | undefined | Promise<string | null | undefined>);

/**
 * A gauge's settings. `C` is what the face passes to the functions among them: Hono's Context for
 * `pressure-gauge/hono`, `{ request, env, ctx }` for `withGauge` and `acquire`. Defaults: docs/library.md.
 */
export interface GaugeOptions<C> {
	/** Names the gauge's Durable Objects (`route:<name>`): every Worker and handler using one name shares one count. */
	readonly name: string;
	/** Requests in flight at once, worldwide. Either this or `adaptive`. */
	readonly limit?: number;
	/** Learn the limit within [min, max] from the handler's latency and errors (docs/adaptive.md). */
	readonly adaptive?: { readonly min?: number; readonly max: number } & Partial<Omit<AdaptiveSettings, "min" | "max">>;
	/**
	 * Shares per key: while the gauge is contended each active key holds at most its max-min fair share (`fair`,
	 * default true), and never more than `limit` requests at once when `limit` is set. Default: none.
	 */
	readonly perKey?: {
		readonly by: KeySource<C>;
		readonly fair?: boolean;
		readonly limit?: number;
		readonly missing?: "shared" | "route-only";
	};
	/**
	 * Priority classes, most critical first: a class (with the classes below it) holds at most floor(limit × (1 − headroom)).
	 * `match` is a table (path, host, methods, header, cookie; header and cookie need `trusted: true`) or a function of
	 * the face's context. Unmatched requests go to `defaultClass` (default: the last class). Default: none.
	 */
	readonly classes?: readonly {
		readonly name: string;
		readonly headroom: number;
		readonly match?: Record<string, unknown> | ((context: C) => boolean | Promise<boolean>);
		readonly trusted?: boolean;
	}[];
	readonly defaultClass?: string;
	/** Wait for a permit (FIFO) instead of a 429 at once: at most `size` waiters, each for at most `maxWaitMs`. Default: none. */
	readonly queue?: {
		readonly size: number;
		readonly maxWaitMs: number;
		/** "adaptive": LIFO and CoDel shedding under sustained overload. Default "fifo". */
		readonly order?: "fifo" | "adaptive";
		/** CoDel's target wait and interval (order "adaptive"). Default auto: a quarter of the mean hold time (at least 5 ms), and the mean hold (at least 100 ms). */
		readonly targetMs?: number;
		readonly intervalMs?: number;
	};
	/** Count what would be refused, refuse nothing (responses carry `pressure-gauge-dry-run`). Default false. */
	readonly dryRun?: boolean;
	/** When the gauge's Durable Object cannot answer: "closed" refuses (503), "open" lets the request through. Default "closed". */
	readonly failMode?: "closed" | "open";
	/** Which responses carry RateLimit-Policy / RateLimit. Default "refusals". */
	readonly rateLimitHeaders?: "refusals" | "all" | "none";
	/** Durable Objects the limit is split across (a hot gauge). Default 1. */
	readonly shards?: number;
	/** Permits leased to isolates in blocks (fewer object calls), or "off". Default on for limits of 20 and more. */
	readonly blocks?: "off" | { readonly max?: number; readonly returnAfterMs?: number };
	/** How long a cut exchange's permit stays counted after the cut. Default { graceMs: 5000 }. */
	readonly cutRelease?: "immediate" | { readonly graceMs: number };
	/** A permit's lease if never released (the backstop). Default handlerTimeoutMs + 5000. */
	readonly maxHoldMs?: number;
	/** The handler's deadline, headers and body: past it the permit goes back and the client gets a 504. Default 30000. */
	readonly handlerTimeoutMs?: number;
	/** Where the gauge's Durable Objects are created (near what the handler calls). Default: near the first caller. */
	readonly locationHint?: LocationHint;
	/** A 101 WebSocket: "hold" its permit until it closes, count the "handshake" only, or "refuse" upgrades. Default "hold". */
	readonly websocket?: "hold" | "handshake" | "refuse";
}

/** Settings of the gate's route table that a handler's gauge has no use for (the handler's own routing decides). */
const GATE_ONLY = ["path", "methods", "host", "ignoreCase", "headFollowsGet"] as const;

/** A face's own settings, checked by the face; the rest go to the config's parser. */
export interface Built<C> {
	readonly route: Route;
	/** The perKey key function, when `by` is one. */
	readonly keyOf: ((context: C) => string | null | undefined | Promise<string | null | undefined>) | null;
	/** The request's class index, when some class matches by a function (else the core classifies by the config). */
	readonly classOf: ((request: Request, context: C) => Promise<number>) | null;
}

/**
 * Checks `options` (and the face's own settings in `extra`, already checked: their problems) and resolves the route.
 * Throws one Error listing every problem, e.g. `pressure-gauge: gauge() options.limit: got 0, expected an integer >= 1`.
 */
export function buildGauge<C>(face: string, options: GaugeOptions<C>, problems: string[] = []): Built<C> {
	const errors = [...problems];
	if (typeof options !== "object" || options === null) {
		throw new Error(`pressure-gauge: ${face} needs an options object, e.g. { name: "search", limit: 10 }`);
	}
	const { handlerTimeoutMs, perKey, classes, ...rest } = options as GaugeOptions<C> & Record<string, unknown>;
	for (const key of GATE_ONLY) {
		if (key in rest)
			errors.push(`options.${key}: not a setting of a handler's gauge (the handler's own route decides which requests it sees)`);
	}
	if ("originTimeoutMs" in rest) errors.push("options.originTimeoutMs: not a setting of a handler's gauge, expected handlerTimeoutMs");
	for (const key of [...GATE_ONLY, "originTimeoutMs", "binding", "onRefused"]) delete rest[key];
	const keyOf = typeof perKey?.by === "function" ? perKey.by : null;
	// A class matched by a function is checked here; the parser sees it without a match.
	const matchers = Array.isArray(classes) ? classes.map((c) => (typeof c?.match === "function" ? c.match : null)) : [];
	const plainClasses = Array.isArray(classes)
		? classes.map((c) => (typeof c?.match === "function" ? (({ match: _, ...other }) => other)(c) : c))
		: classes;
	// A key function is checked here; the parser sees a placeholder source in its place.
	const rule = {
		...rest,
		path: "/*",
		...(handlerTimeoutMs === undefined ? {} : { originTimeoutMs: handlerTimeoutMs }),
		...(perKey === undefined ? {} : { perKey: keyOf ? { ...perKey, by: "ip" } : perKey }),
		...(classes === undefined ? {} : { classes: plainClasses }),
	};
	const parsed = parseConfig({ LIMITS: { routes: [rule] } });
	if (!parsed.ok) errors.push(...parsed.errors.map(asOptionError));
	if (errors.length > 0 || !parsed.ok) {
		const lines = errors.map((e) => `  - ${e}`).join("\n");
		throw new Error(`pressure-gauge: ${face} got invalid options (docs/library.md, "Options"):\n${lines}`);
	}
	const route = parsed.config.routes[0];
	if (!route) throw new Error(`pressure-gauge: ${face}: the options made no route`);
	const classList = route.classes;
	const classOf =
		classList && matchers.some((m) => m !== null)
			? (request: Request, context: C) => classifyWith(request, classList, matchers, context)
			: null;
	return { route, keyOf, classOf };
}

/** The parser's message about LIMITS.routes[0], said about the options a user wrote. */
function asOptionError(message: string): string {
	// The gate's messages name a route as `LIMITS.routes[0] ("name")`; an option is just `options`.
	return message
		.replaceAll(/LIMITS\.routes\[0\](?: \("[^"]*"\))?/g, "options")
		.replaceAll("originTimeoutMs", "handlerTimeoutMs")
		.replace("(reserved for LIMITS.default)", "(reserved)")
		.replace("(docs/configuration.md)", '(docs/library.md, "Options")');
}

/** Settings a face adds: its own checks of `binding` and `onRefused`. */
export function checkFaceSettings(options: { readonly binding?: unknown; readonly onRefused?: unknown }): string[] {
	const problems: string[] = [];
	if (options.binding !== undefined && typeof options.binding !== "function") {
		problems.push(
			`options.binding: got ${typeof options.binding}, expected a function of the request's context returning the Gauge namespace`,
		);
	}
	if (options.onRefused !== undefined && typeof options.onRefused !== "function") {
		problems.push(`options.onRefused: got ${typeof options.onRefused}, expected a function (refusal, context) => Response`);
	}
	return problems;
}

/** A refusal shaper: the default one (refusal-response.ts) or the user's. */
export type OnRefused<C> = (refusal: Refusal, context: C) => Response | Promise<Response>;
