// The shape of the LIMITS var in wrangler.toml, with every default in one place.
import { ADAPTIVE_DEFAULTS } from "../adaptive/settings.ts";
import type { Check, Output } from "./check.ts";
import { anything, check, is, list, matching, oneOf, optional, table } from "./check.ts";
import { classesSetting } from "./classes.ts";
import { patternError } from "./pattern.ts";

/** Defaults for every optional route setting. docs/configuration.md mirrors these. */
export const DEFAULTS = {
	/** Deadline for the whole proxied exchange: origin headers and body delivery. */
	originTimeoutMs: 30_000,
	/** A lease outlives the exchange's deadline by at least this much (see maxHoldMs). */
	leaseMarginMs: 5_000,
	/** The smallest margin accepted between originTimeoutMs and maxHoldMs. */
	minLeaseMarginMs: 1_000,
	failMode: "closed",
	/** Requests without a key share one partition, so dropping the key does not escape the limit. */
	missingKey: "shared",
	/**
	 * queue.order = "adaptive": CoDel's target and interval scale with the route's mean hold time (src/object/queue-order.ts
	 * CODEL_AUTO: target = hold / 4, at least 5 ms; interval = hold, at least 100 ms). Facebook's fixed 5 ms / 100 ms
	 * (folly/executors/Codel.cpp) are for ~1 ms RPCs and shed nearly every waiter of a 200 ms origin.
	 */
	codel: { targetMs: "auto", intervalMs: "auto" },
	rateLimitHeaders: "refusals",
	dryRun: false,
	/** PATHS: how every request's path is made canonical (docs/paths.md). */
	paths: { mergeSlashes: true, encodedSlashes: "reject", pathParams: "keep", trailingSlash: "either" },
	/** Per route: URLPattern's ignoreCase is off, as paths are case-sensitive (RFC 3986 §6.2.2.1). */
	ignoreCase: false,
	/** Per route: a route whose methods list GET also gates HEAD (RFC 9110 §9.3.2). */
	headFollowsGet: true,
	/** A WebSocket upgrade holds its permit until the socket closes. */
	websocket: "hold",
	/** cutRelease: a cut exchange's permit stays counted this long after the cut (at most until its lease ends). */
	cutGraceMs: 5_000,
	/** An adaptive limit's optional settings (src/adaptive/settings.ts); `initial` defaults to `min`. */
	adaptive: ADAPTIVE_DEFAULTS,
	/**
	 * Blocks (docs/blocks.md): an isolate's block holds at most this share of its gauge's limit, so at least
	 * 1/share isolates can hold one; below 2 permits per block (limits under 20) blocks are off (k = 1).
	 */
	blocks: { share: 0.1, returnAfterMs: 100 },
} as const;

/** Durable Object location hints (developers.cloudflare.com/durable-objects/reference/data-location/). */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type LocationHint = (typeof LOCATION_HINTS)[number];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const METHOD = /^[A-Z]+$/;
const KEY_SOURCE = /^(ip|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+|cookie:[A-Za-z0-9!#$%&'*+.^_`|~-]+)$/;

const isAtLeastOne = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1;
const limit = is(isAtLeastOne, "expected an integer >= 1");
const millis = is(isAtLeastOne, "expected a whole number of milliseconds >= 1");

const path = check<string>((value) => {
	if (typeof value !== "string" || !value.startsWith("/")) return 'expected a URL path pattern starting with "/", e.g. "/api/*"';
	const error = patternError({ pathname: value });
	return error === null ? null : `expected a valid URLPattern path (${error})`;
});

const host = check<string>((value) => {
	if (typeof value !== "string") return 'expected a host name pattern, e.g. "api.example.com" or "*.example.com"';
	const error = patternError({ hostname: value });
	return error === null ? null : `expected a valid URLPattern host name (${error})`;
});

const perKey = table(
	{
		/** A hard ceiling per key; optional on a fair route (src/config/fairness.ts). */
		limit: optional(limit),
		/** Max-min fair shares among active keys while the route is contended (docs/classes-and-fair-shares.md). */
		fair: optional(oneOf([true, false], "expected true or false")),
		by: matching(KEY_SOURCE, 'expected "ip", "header:<name>" or "cookie:<name>"'),
		missing: optional(oneOf(["shared", "route-only"], 'expected "shared" or "route-only"')),
	},
	"expected a table (perKey = { by, fair, limit, missing })",
);

const queue = table(
	{
		size: limit,
		maxWaitMs: millis,
		/** "fifo", or "adaptive": LIFO and CoDel shedding under sustained overload (docs/classes-and-fair-shares.md). */
		order: optional(oneOf(["fifo", "adaptive"], 'expected "fifo" or "adaptive"')),
		targetMs: optional(millis),
		intervalMs: optional(millis),
	},
	"expected a table (queue = { size, maxWaitMs, order, targetMs, intervalMs })",
);

/** The longest returnAfterMs: the admission window is 2 × returnAfterMs, and it bounds how long a frozen isolate parks permits. */
export const MAX_RETURN_AFTER_MS = 10_000;

/** `blocks = "off"` or `blocks = { max, returnAfterMs }` (both optional in the table). */
const blocksTable = table(
	{
		max: optional(limit),
		returnAfterMs: optional(
			is(
				(v): v is number => isAtLeastOne(v) && v <= MAX_RETURN_AFTER_MS,
				`expected a whole number of milliseconds from 1 to ${MAX_RETURN_AFTER_MS} (2 × returnAfterMs is the admission window, which bounds how long a frozen isolate parks its block)`,
			),
		),
	},
	'expected "off" or a table (blocks = { max, returnAfterMs })',
);
const blocksSetting: Check<"off" | Output<typeof blocksTable>> = (value, path, issues) =>
	value === "off" ? "off" : blocksTable(value, path, issues);

/** What happens to the permit of an exchange cut short (client gone, body cancelled, deadline passed). */
const graceTable = table({ graceMs: millis }, 'expected "immediate" or { graceMs = <milliseconds> }');
const cutRelease: Check<"immediate" | Output<typeof graceTable>> = (value, path, issues) =>
	value === "immediate" ? "immediate" : graceTable(value, path, issues);
const positive = is((v): v is number => typeof v === "number" && Number.isFinite(v) && v > 0, "expected a number > 0");
const adaptive = table(
	{
		min: optional(limit),
		max: limit,
		initial: optional(limit),
		windowMs: optional(millis),
		probeIntervalMs: optional(millis),
		alpha: optional(positive),
		beta: optional(positive),
		backoff: optional(is((v): v is number => typeof v === "number" && v > 0 && v < 1, "expected a number between 0 and 1")),
	},
	"expected a table (adaptive = { min, max })",
);

/** Settings every route has, including the default route. */
const routeSettings = {
	originTimeoutMs: optional(millis),
	maxHoldMs: optional(millis),
	failMode: optional(oneOf(["closed", "open"], 'expected "closed" or "open"')),
	perKey: optional(perKey),
	queue: optional(queue),
	dryRun: optional(oneOf([true, false], "expected true or false")),
	rateLimitHeaders: optional(oneOf(["refusals", "all", "none"], 'expected "refusals", "all" or "none"')),
	shards: optional(limit),
	/** How WebSocket upgrades count: "hold" a permit for the socket's life, for the "handshake" only, or "refuse" them. */
	websocket: optional(oneOf(["hold", "handshake", "refuse"], 'expected "hold", "handshake" or "refuse"')),
	cutRelease: optional(cutRelease),
	/** Instead of `limit`: learn the limit within [min, max] (src/config/adaptive.ts checks the combinations). */
	adaptive: optional(adaptive),
	/** Permits leased to isolates in blocks, or "off" (one object call per request). */
	blocks: optional(blocksSetting),
	/** Priority classes, most critical first (src/config/classes.ts checks each one). */
	classes: optional(classesSetting),
	/** The class of requests no class matches; default: the last class. */
	defaultClass: optional(anything),
	/** Where the route's Durable Objects are created: near the origin. */
	locationHint: optional(oneOf(LOCATION_HINTS, `expected one of ${LOCATION_HINTS.map((h) => `"${h}"`).join(", ")}`)),
};

export const RouteRuleInput = table(
	{
		name: matching(NAME, "expected 1-63 letters, digits, '-' or '_', starting with a letter or digit"),
		path,
		methods: optional(
			list(
				matching(METHOD, 'expected an upper-case HTTP method, e.g. "GET"'),
				'expected a list of HTTP methods, e.g. ["GET", "HEAD"]',
				"expected at least one method (leave the field out to match every method)",
			),
		),
		host: optional(host),
		ignoreCase: optional(oneOf([true, false], "expected true or false")),
		headFollowsGet: optional(oneOf([true, false], "expected true or false")),
		limit: optional(limit),
		...routeSettings,
	},
	"expected a table of route settings",
);

export const DefaultRouteInput = table(
	{
		limit: optional(
			is((value): value is number | "unlimited" => value === "unlimited" || isAtLeastOne(value), 'expected an integer >= 1 or "unlimited"'),
		),
		...routeSettings,
	},
	"expected a table of route settings",
);

/** The outer table only: each route is parsed on its own, so one bad route hides no other problem. */
export const LimitsInput = table(
	{
		routes: optional(list(anything, "expected a list of route tables ([[vars.LIMITS.routes]])"), []),
		default: optional(anything, { limit: "unlimited" }),
	},
	"expected a table ([vars.LIMITS])",
);

/** The PATHS var: one canonical path per request, computed before any route is matched. */
export const PathsInput = table(
	{
		mergeSlashes: optional(oneOf([true, false], "expected true or false")),
		encodedSlashes: optional(oneOf(["reject", "decode", "keep"], 'expected "reject", "decode" or "keep"')),
		pathParams: optional(oneOf(["keep", "strip", "reject"], 'expected "keep", "strip" or "reject"')),
		trailingSlash: optional(oneOf(["either", "exact"], 'expected "either" or "exact"')),
	},
	"expected a table (PATHS = { mergeSlashes, encodedSlashes, pathParams, trailingSlash })",
);

export type RouteRuleInput = Output<typeof RouteRuleInput>;
export type DefaultRouteInput = Output<typeof DefaultRouteInput>;
