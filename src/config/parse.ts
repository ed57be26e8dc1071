// Turns the raw wrangler vars into a validated GateConfig, reporting every problem at once.
import type { AdaptiveSettings } from "../adaptive/settings.ts";
import { resolveLimit } from "./adaptive.ts";
import type { PathOptions } from "./canonical-path.ts";
import { canonicalPath } from "./canonical-path.ts";
import type { Issue } from "./check.ts";
import { validate } from "./check.ts";
import type { PriorityClasses } from "./classes.ts";
import { resolveClasses } from "./classes.ts";
import { checkFairness, isFair, needsEveryAdmission } from "./fairness.ts";
import type { DefaultRouteInput as DefaultRouteData, LocationHint } from "./schema.ts";
import { DEFAULTS, DefaultRouteInput, LimitsInput, PathsInput, RouteRuleInput } from "./schema.ts";
import { closest } from "./suggest.ts";

export type FailMode = "closed" | "open";

/** Where a request's partition key comes from. */
export type KeySource = { readonly kind: "ip" } | { readonly kind: "header" | "cookie"; readonly name: string };

export interface PerKeyLimit {
	/** A hard ceiling per key, in its own Durable Object; null: none (a fair route's shares alone). */
	readonly limit: number | null;
	/** While the route is contended, each active key holds at most its max-min fair share (decided by the route's object). */
	readonly fair: boolean;
	readonly by: KeySource;
	/** "shared": keyless requests share one partition; "route-only": only the route's total applies to them. */
	readonly missing: "shared" | "route-only";
}

export interface QueueSettings {
	/** Waiters at most; one more is refused at once. */
	readonly size: number;
	/** How long a waiter waits for a permit before it is refused. */
	readonly maxWaitMs: number;
	/**
	 * Null: FIFO. Else adaptive LIFO + CoDel (src/object/queue-order.ts) with this target and interval: a fixed number
	 * when the config gives one, else "auto" (scaled to the route's mean hold time, by the route's object).
	 */
	readonly adaptive: { readonly targetMs: number | "auto"; readonly intervalMs: number | "auto" } | null;
}

/** How a route's WebSocket upgrades count against its permits (docs/websockets.md). */
export type WebSocketMode = "hold" | "handshake" | "refuse";

/** A route's blocks (docs/blocks.md): the most permits one isolate's block may hold, and how fast spares go back. */
export interface BlocksSetting {
	/** An absolute cap, or null: a share of each gauge's limit (DEFAULTS.blocks.share). */
	readonly max: number | null;
	readonly returnAfterMs: number;
}

/** One gated route, resolved: every default filled in, its pattern compiled. */
export interface Route {
	/** Names the route's Durable Object; unique across the config. */
	readonly name: string;
	/** Permits; on an adaptive route, its ceiling (adaptive.max). */
	readonly limit: number;
	/** Learn the limit within [min, max] from the origin's latency and errors; null: `limit` is fixed. */
	readonly adaptive: AdaptiveSettings | null;
	readonly originTimeoutMs: number;
	readonly maxHoldMs: number;
	readonly failMode: FailMode;
	readonly perKey: PerKeyLimit | null;
	readonly queue: QueueSettings | null;
	/** Count what would be refused, refuse nothing. */
	readonly dryRun: boolean;
	/** Which responses carry RateLimit-Policy / RateLimit. */
	readonly rateLimitHeaders: "refusals" | "all" | "none";
	/** Durable Objects the route's permits are split across, each holding a fixed share. */
	readonly shards: number;
	readonly websocket: WebSocketMode;
	/**
	 * How long a cut exchange's permits stay counted after the cut (0: given back at once), for an origin that
	 * keeps working once its connection is gone. Never past the lease's own expiry.
	 */
	readonly cutGraceMs: number;
	/** Null: "off", one object call per admitted request. */
	readonly blocks: BlocksSetting | null;
	/** Where the route's Durable Objects are created; null lets Cloudflare place them near the first caller. */
	readonly locationHint: LocationHint | null;
	/** Priority classes, most critical first, and where unmatched requests go; null: every request is equal. */
	readonly classes: PriorityClasses | null;
	/** Null for the default route, which matches whatever no rule matched. Compiled with the route's ignoreCase. */
	readonly pattern: URLPattern | null;
	/** Upper-case; HEAD is in it when GET is and headFollowsGet is on. */
	readonly methods: ReadonlySet<string> | null;
}

/** The PATHS var resolved: how a path is made canonical, and whether one trailing slash more or less still matches. */
export interface PathSettings extends PathOptions {
	readonly trailingSlash: "either" | "exact";
}

export interface GateConfig {
	/** Where admitted requests go; null forwards to the request's own URL (zone routes). */
	readonly origin: URL | null;
	/** Path prefix of the admin surface; never proxied. */
	readonly adminPrefix: string;
	/** Applied to every request's path before the admin prefix and the routes are matched. */
	readonly paths: PathSettings;
	/** Checked in order, first match wins. */
	readonly routes: readonly Route[];
	/** The default route for unmatched requests; null passes them through ungated. */
	readonly fallback: Route | null;
}

/**
 * A rejected config still says where the admin surface is and how paths are made canonical (the defaults where
 * those vars are bad themselves), so the admin surface can report the errors while nothing is proxied.
 */
export type ParseResult = { ok: true; config: GateConfig } | { ok: false; errors: string[]; adminPrefix: string; paths: PathSettings };

/** The vars the config is read from. Anything else in env is ignored. */
export interface ConfigVars {
	readonly LIMITS?: unknown;
	readonly ORIGIN?: unknown;
	readonly ADMIN_PREFIX?: unknown;
	readonly PATHS?: unknown;
}

/** URLPattern with its options argument, which the polyfill `npm run check` loads has at run time but not in its types. */
const Pattern = URLPattern as unknown as new (init: URLPatternInit, options: { ignoreCase: boolean }) => URLPattern;

export const DEFAULT_ROUTE_NAME = "default";
export const DEFAULT_ADMIN_PREFIX = "/__gauge";

/** Parses and validates the gate's vars. Never throws; errors name the field, the value and what was expected. */
export function parseConfig(vars: ConfigVars): ParseResult {
	const errors: string[] = [];
	const origin = parseOrigin(vars.ORIGIN, errors);
	const adminPrefix = parseAdminPrefix(vars.ADMIN_PREFIX, errors);
	const paths = parsePaths(vars.PATHS, errors);

	const outer = validate(LimitsInput, vars.LIMITS ?? {});
	if (!outer.ok) errors.push(...outer.issues.map((issue) => formatIssue(issue, "LIMITS", vars.LIMITS)));
	// An unknown key beside `routes` hides none of the routes' own problems: every one is reported at once.
	const table = outer.ok ? outer.value : fieldsOf(vars.LIMITS);
	if (!table) return { ok: false, errors, adminPrefix, paths };
	const routeTables = Array.isArray(table.routes) ? table.routes : [];

	checkUniqueNames(routeTables, errors);
	const routes: Route[] = [];
	routeTables.forEach((raw, i) => {
		const at = routeAt(i, raw);
		const rule = validate(RouteRuleInput, raw);
		if (!rule.ok) errors.push(...rule.issues.map((issue) => formatIssue(issue, at, raw)));
		// The settings that passed on their own are still checked together, so fixing one problem reveals no other.
		const fine = rule.ok ? allFine(rule.value) : wellFormed<RouteRuleInput>(raw, rule.issues);
		if (!fine) return;
		const limits = fine.has("limit", "adaptive") ? resolveLimit(fine.value, at, errors, "expected an integer >= 1") : null;
		const timing = fine.has("originTimeoutMs", "maxHoldMs") ? resolveTiming(fine.value, at, errors) : null;
		const canonical = fine.has("path") && typeof fine.value.path === "string" && checkCanonicalPattern(fine.value.path, paths, at, errors);
		const shardsFit =
			limits !== null && limits.limit !== "unlimited" && fine.has("shards") && checkShards(fine.value.shards, limits.limit, at, errors);
		const classes = fine.has("classes", "defaultClass") ? resolveClasses(fine.value.classes, fine.value.defaultClass, at, errors) : null;
		const fair = fine.has("perKey", "blocks", "queue") && checkFairness(fine.value, at, errors);
		if (!rule.ok || !fair || (rule.value.classes !== undefined && !classes)) return;
		if (!timing || !limits || limits.limit === "unlimited" || !shardsFit || !canonical) return;
		const { name, path, host, methods, ignoreCase = DEFAULTS.ignoreCase, headFollowsGet = DEFAULTS.headFollowsGet } = rule.value;
		routes.push({
			name,
			limit: limits.limit,
			adaptive: limits.adaptive,
			...timing,
			...resolveShaping(rule.value),
			classes,
			pattern: new Pattern({ pathname: path, hostname: host ?? "*" }, { ignoreCase }),
			methods: methods ? resolveMethods(methods, headFollowsGet) : null,
		});
	});

	const fallback = parseDefault(table.default ?? { limit: "unlimited" }, errors);
	if (errors.length > 0) return { ok: false, errors, adminPrefix, paths };
	return { ok: true, config: { origin, adminPrefix, paths, routes, fallback } };
}

/** "LIMITS.routes[1]", and the route's name when it has one: `LIMITS.routes[1] ("reports")`. */
function routeAt(i: number, raw: unknown): string {
	const name = (raw as { name?: unknown } | null)?.name;
	return `LIMITS.routes[${i}]${typeof name === "string" ? ` (${JSON.stringify(name)})` : ""}`;
}

/** A table's own keys and values, or null when it is not a table. */
function fieldsOf(raw: unknown): Record<string, unknown> | null {
	return typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
}

/** The settings of a rejected table that passed their own checks, and whether every one of `keys` is among them. */
interface WellFormed<T> {
	// The types the schema promises, for the keys `has` confirms: the cross-field checks read only those.
	readonly value: T;
	has(...keys: string[]): boolean;
}

function allFine<T>(value: T): WellFormed<T> {
	return { value, has: () => true };
}

/** What is left of a rejected table once every setting with a problem (or unknown) is taken out; null: not a table. */
function wellFormed<T>(raw: unknown, issues: readonly Issue[]): WellFormed<T> | null {
	const table = fieldsOf(raw);
	if (!table) return null;
	const bad = new Set(issues.map((issue) => issue.path[0]));
	const value = Object.fromEntries(Object.entries(table).filter(([key]) => !bad.has(key))) as T;
	return { value, has: (...keys) => keys.every((key) => !bad.has(key)) };
}

function parseDefault(raw: unknown, errors: string[]): Route | null {
	// A [vars.LIMITS.default] table without `limit` (or `adaptive`) leaves unmatched requests unlimited, as no table does.
	const table = raw as { limit?: unknown; adaptive?: unknown } | null;
	const filled = typeof table === "object" && table !== null && table.limit === undefined && table.adaptive === undefined;
	const input = filled ? { ...table, limit: "unlimited" } : raw;
	const parsed = validate(DefaultRouteInput, input);
	if (!parsed.ok) errors.push(...parsed.issues.map((issue) => formatIssue(issue, "LIMITS.default", raw)));
	const fine = parsed.ok ? allFine(parsed.value) : wellFormed<DefaultRouteData>(input, parsed.issues);
	if (!fine) return null;
	const timing = fine.has("originTimeoutMs", "maxHoldMs") ? resolveTiming(fine.value, "LIMITS.default", errors) : null;
	const limits = fine.has("limit", "adaptive")
		? resolveLimit(fine.value, "LIMITS.default", errors, 'expected an integer >= 1 or "unlimited"')
		: null;
	const classes = fine.has("classes", "defaultClass")
		? resolveClasses(fine.value.classes, fine.value.defaultClass, "LIMITS.default", errors)
		: null;
	const fair = fine.has("perKey", "blocks", "queue") && checkFairness(fine.value, "LIMITS.default", errors);
	if (!parsed.ok || !fair || (parsed.value.classes !== undefined && !classes)) return null;
	if (!limits || limits.limit === "unlimited" || !timing || !checkShards(parsed.value.shards, limits.limit, "LIMITS.default", errors)) {
		return null;
	}
	const { limit, adaptive } = limits;
	return { name: DEFAULT_ROUTE_NAME, limit, adaptive, ...timing, ...resolveShaping(parsed.value), classes, pattern: null, methods: null };
}

type Shaping = Pick<
	Route,
	"failMode" | "perKey" | "queue" | "dryRun" | "rateLimitHeaders" | "shards" | "websocket" | "cutGraceMs" | "blocks" | "locationHint"
>;

/** Fills in the defaults of the settings that shape how a route admits and answers. */
function resolveShaping(rule: Omit<DefaultRouteData, "limit">): Shaping {
	const { perKey, queue } = rule;
	return {
		failMode: rule.failMode ?? DEFAULTS.failMode,
		perKey: perKey
			? {
					limit: perKey.limit ?? null,
					fair: isFair(rule),
					by: parseKeySource(perKey.by),
					missing: perKey.missing ?? DEFAULTS.missingKey,
				}
			: null,
		queue: queue
			? {
					size: queue.size,
					maxWaitMs: queue.maxWaitMs,
					adaptive:
						queue.order === "adaptive"
							? { targetMs: queue.targetMs ?? DEFAULTS.codel.targetMs, intervalMs: queue.intervalMs ?? DEFAULTS.codel.intervalMs }
							: null,
				}
			: null,
		dryRun: rule.dryRun ?? DEFAULTS.dryRun,
		rateLimitHeaders: rule.rateLimitHeaders ?? DEFAULTS.rateLimitHeaders,
		shards: rule.shards ?? 1,
		// Adaptive routes count a WebSocket's handshake only (src/config/adaptive.ts says why).
		websocket: rule.websocket ?? (rule.adaptive ? "handshake" : DEFAULTS.websocket),
		cutGraceMs: rule.cutRelease === undefined ? DEFAULTS.cutGraceMs : rule.cutRelease === "immediate" ? 0 : rule.cutRelease.graceMs,
		// Adaptive routes learn from every exchange, so they take one permit per request (src/config/adaptive.ts).
		// So do fair routes and routes with classes: they need the route's object to see every admission (src/config/fairness.ts).
		blocks:
			rule.blocks === "off" || ((rule.adaptive || needsEveryAdmission(rule)) && rule.blocks === undefined)
				? null
				: { max: rule.blocks?.max ?? null, returnAfterMs: rule.blocks?.returnAfterMs ?? DEFAULTS.blocks.returnAfterMs },
		locationHint: rule.locationHint ?? null,
	};
}

function parsePaths(raw: unknown, errors: string[]): PathSettings {
	const parsed = validate(PathsInput, raw ?? {});
	if (!parsed.ok) errors.push(...parsed.issues.map((issue) => formatIssue(issue, "PATHS", raw)));
	const set: { [K in keyof PathSettings]?: PathSettings[K] | undefined } = parsed.ok ? parsed.value : {};
	return {
		mergeSlashes: set.mergeSlashes ?? DEFAULTS.paths.mergeSlashes,
		encodedSlashes: set.encodedSlashes ?? DEFAULTS.paths.encodedSlashes,
		pathParams: set.pathParams ?? DEFAULTS.paths.pathParams,
		trailingSlash: set.trailingSlash ?? DEFAULTS.paths.trailingSlash,
	};
}

/**
 * Requests are matched on their canonical path, so a pattern spelled otherwise ("/re%71uest", "/a//b"
 * with slashes merged) would silently never match: say so, with the spelling that would.
 */
function checkCanonicalPattern(path: string, paths: PathSettings, at: string, errors: string[]): boolean {
	const canonical = canonicalPath(path, paths);
	if (canonical.ok && canonical.path === path) return true;
	const expected = canonical.ok ? `the same path spelled canonically, "${canonical.path}"` : `a path that can match (${canonical.problem})`;
	errors.push(
		`${at}.path: got ${show(path)}, expected ${expected}; requests are matched after normalization (docs/paths.md, "Path normalization")`,
	);
	return false;
}

/** HEAD is GET without the body (RFC 9110 §9.3.2), and origins run the GET handler for it. */
function resolveMethods(methods: readonly string[], headFollowsGet: boolean): ReadonlySet<string> {
	const set = new Set(methods);
	if (headFollowsGet && set.has("GET")) set.add("HEAD");
	return set;
}

/** "ip", "header:x-api-key" or "cookie:session" (already checked by the schema). */
function parseKeySource(by: string): KeySource {
	if (by === "ip") return { kind: "ip" };
	const [kind, name] = by.split(":", 2) as ["header" | "cookie", string];
	return { kind, name: kind === "header" ? name.toLowerCase() : name };
}

/** Names decide Durable Objects: two routes sharing one would share one count. */
function checkUniqueNames(routes: readonly unknown[], errors: string[]): void {
	const seen = new Map<string, number>();
	routes.forEach((raw, i) => {
		const name = (raw as { name?: unknown } | null)?.name;
		if (typeof name !== "string") return;
		const at = `${routeAt(i, raw)}.name`;
		if (name === DEFAULT_ROUTE_NAME) {
			errors.push(`${at}: got "${name}", expected a name other than "${DEFAULT_ROUTE_NAME}" (reserved for LIMITS.default)`);
		}
		const first = seen.get(name);
		if (first === undefined) seen.set(name, i);
		else errors.push(`${at}: got "${name}", expected a unique name (LIMITS.routes[${first}] has it too)`);
	});
}

function parseOrigin(value: unknown, errors: string[]): URL | null {
	if (value === undefined || value === "") return null;
	const problem = `ORIGIN: got ${show(value)}, expected an http(s) URL with no path, query or fragment, e.g. "https://origin.example.com"`;
	const url = typeof value === "string" && URL.canParse(value) ? new URL(value) : null;
	const plain = url !== null && url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
	if (!url || !plain || (url.protocol !== "http:" && url.protocol !== "https:")) {
		errors.push(problem);
		return null;
	}
	return url;
}

function parseAdminPrefix(value: unknown, errors: string[]): string {
	if (value === undefined || value === "") return DEFAULT_ADMIN_PREFIX;
	// Dot segments never survive normalization, so a prefix holding one could never match.
	if (typeof value !== "string" || !/^(\/[A-Za-z0-9._~-]+)+$/.test(value) || /\/\.\.?(\/|$)/.test(value)) {
		errors.push(
			`ADMIN_PREFIX: got ${show(value)}, expected a path of one or more segments (none of them "." or "..") with no trailing slash, e.g. "${DEFAULT_ADMIN_PREFIX}"`,
		);
		return DEFAULT_ADMIN_PREFIX;
	}
	return value;
}

/** Every shard holds a fixed share of the limit, at least one permit. */
function checkShards(shards: number | undefined, limit: number, at: string, errors: string[]): boolean {
	if (shards === undefined || shards <= limit) return true;
	errors.push(`${at}.shards: got ${shards}, expected at most limit = ${limit} (every shard holds at least one permit)`);
	return false;
}

type Timing = { originTimeoutMs: number; maxHoldMs: number };

/** The lease must outlive the exchange's deadline, or a permit could be handed out twice. */
function resolveTiming(
	rule: { originTimeoutMs?: number | undefined; maxHoldMs?: number | undefined },
	at: string,
	errors: string[],
): Timing | null {
	const originTimeoutMs = rule.originTimeoutMs ?? DEFAULTS.originTimeoutMs;
	const maxHoldMs = rule.maxHoldMs ?? originTimeoutMs + DEFAULTS.leaseMarginMs;
	const least = originTimeoutMs + DEFAULTS.minLeaseMarginMs;
	if (maxHoldMs < least) {
		errors.push(
			`${at}.maxHoldMs: got ${maxHoldMs}, expected at least originTimeoutMs + ${DEFAULTS.minLeaseMarginMs} = ${least}` +
				" (a lease must outlive the request's deadline, or a permit could be handed out twice)",
		);
		return null;
	}
	return { originTimeoutMs, maxHoldMs };
}

function formatIssue(issue: Issue, at: string, root: unknown): string {
	const path = issue.path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : `${acc}.${key}`), at);
	if (issue.expected === null) {
		// A small table's settings are named (blocks.maxx: "max" or "returnAfterMs"); a route's are too many for one line.
		const written = issue.path[issue.path.length - 1];
		const meant = typeof written === "string" && issue.known ? closest(written, issue.known) : null;
		if (meant !== null) return `${path}: unknown setting, did you mean "${meant}"? (docs/configuration.md)`;
		const known = issue.known && issue.known.length <= 10 ? issue.known.map((k) => `"${k}"`).join(", ") : "the documented settings";
		return `${path}: unknown setting, expected one of ${known} (docs/configuration.md)`;
	}
	return `${path}: got ${show(valueAt(root, issue.path))}, ${issue.expected}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
	let value = root;
	for (const key of path) {
		if (value === null || typeof value !== "object") return undefined;
		value = (value as Record<PropertyKey, unknown>)[key];
	}
	return value;
}

function show(value: unknown): string {
	if (value === undefined) return "nothing";
	const text = JSON.stringify(value) ?? String(value);
	return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
