// Turns the raw wrangler vars into a validated GateConfig, reporting every problem at once.
import type { z } from "zod";
import { DEFAULTS, LimitsInput } from "./schema.ts";
import type { RouteRuleInput } from "./schema.ts";

export type FailMode = "closed" | "open";

/** One gated route, resolved: every default filled in, its pattern compiled. */
export interface Route {
	/** Names the route's Durable Object; unique across the config. */
	readonly name: string;
	readonly limit: number;
	readonly originTimeoutMs: number;
	readonly maxHoldMs: number;
	readonly failMode: FailMode;
	/** Null for the default route, which matches whatever no rule matched. */
	readonly pattern: URLPattern | null;
	readonly methods: ReadonlySet<string> | null;
}

export interface GateConfig {
	/** Where admitted requests go; null forwards to the request's own URL (zone routes). */
	readonly origin: URL | null;
	/** Checked in order, first match wins. */
	readonly routes: readonly Route[];
	/** The default route for unmatched requests; null passes them through ungated. */
	readonly fallback: Route | null;
}

export type ParseResult = { ok: true; config: GateConfig } | { ok: false; errors: string[] };

/** The vars the config is read from. Anything else in env is ignored. */
export interface ConfigVars {
	readonly LIMITS?: unknown;
	readonly ORIGIN?: unknown;
}

export const DEFAULT_ROUTE_NAME = "default";

/** Parses and validates the gate's vars. Never throws; errors name the field, the value and what was expected. */
export function parseConfig(vars: ConfigVars): ParseResult {
	const errors: string[] = [];
	const origin = parseOrigin(vars.ORIGIN, errors);

	const parsed = LimitsInput.safeParse(vars.LIMITS ?? {});
	if (!parsed.success) {
		errors.push(...parsed.error.issues.flatMap((issue) => formatIssue(issue, vars.LIMITS)));
		return { ok: false, errors };
	}
	const input = parsed.data;

	const seen = new Map<string, number>();
	const routes: Route[] = [];
	input.routes.forEach((rule, i) => {
		const at = `LIMITS.routes[${i}]`;
		if (rule.name === DEFAULT_ROUTE_NAME) {
			errors.push(`${at}.name: got "${rule.name}", expected a name other than "${DEFAULT_ROUTE_NAME}" (reserved for LIMITS.default)`);
		}
		const first = seen.get(rule.name);
		if (first !== undefined) {
			errors.push(`${at}.name: got "${rule.name}", expected a unique name (LIMITS.routes[${first}] has it too)`);
		} else {
			seen.set(rule.name, i);
		}
		const pattern = compilePattern(rule, at, errors);
		const timing = resolveTiming(rule, at, errors);
		if (pattern && timing) {
			routes.push({
				name: rule.name,
				limit: rule.limit,
				...timing,
				failMode: rule.failMode ?? DEFAULTS.failMode,
				pattern,
				methods: rule.methods ? new Set(rule.methods) : null,
			});
		}
	});

	const d = input.default;
	const defaultTiming = resolveTiming(d, "LIMITS.default", errors);
	const fallback: Route | null =
		d.limit === "unlimited" || !defaultTiming
			? null
			: {
					name: DEFAULT_ROUTE_NAME,
					limit: d.limit,
					...defaultTiming,
					failMode: d.failMode ?? DEFAULTS.failMode,
					pattern: null,
					methods: null,
				};

	if (errors.length > 0) return { ok: false, errors };
	return { ok: true, config: { origin, routes, fallback } };
}

function parseOrigin(value: unknown, errors: string[]): URL | null {
	if (value === undefined || value === "") return null;
	const expected = 'expected an http(s) URL with no path, query or fragment, e.g. "https://origin.example.com"';
	if (typeof value !== "string") {
		errors.push(`ORIGIN: got ${show(value)}, ${expected}`);
		return null;
	}
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		errors.push(`ORIGIN: got ${show(value)}, ${expected}`);
		return null;
	}
	const plain = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
	if ((url.protocol !== "http:" && url.protocol !== "https:") || !plain) {
		errors.push(`ORIGIN: got ${show(value)}, ${expected}`);
		return null;
	}
	return url;
}

function compilePattern(rule: RouteRuleInput, at: string, errors: string[]): URLPattern | null {
	let ok = true;
	if (!rule.path.startsWith("/")) {
		errors.push(`${at}.path: got ${show(rule.path)}, expected a URL path pattern starting with "/", e.g. "/api/*"`);
		ok = false;
	}
	let pattern: URLPattern | null = null;
	if (ok) {
		try {
			pattern = new URLPattern({ pathname: rule.path, hostname: rule.host ?? "*" });
		} catch (e) {
			const field = rule.host === undefined ? "path" : "path/host";
			const value = rule.host === undefined ? show(rule.path) : `${show(rule.path)} / ${show(rule.host)}`;
			errors.push(`${at}.${field}: got ${value}, expected a valid URLPattern (${(e as Error).message})`);
		}
	}
	return pattern;
}

type Timing = { originTimeoutMs: number; maxHoldMs: number };

function resolveTiming(rule: { originTimeoutMs?: number | undefined; maxHoldMs?: number | undefined }, at: string, errors: string[]): Timing | null {
	const originTimeoutMs = rule.originTimeoutMs ?? DEFAULTS.originTimeoutMs;
	const maxHoldMs = rule.maxHoldMs ?? originTimeoutMs + DEFAULTS.leaseMarginMs;
	if (maxHoldMs < originTimeoutMs + DEFAULTS.minLeaseMarginMs) {
		errors.push(
			`${at}.maxHoldMs: got ${maxHoldMs}, expected at least originTimeoutMs + ${DEFAULTS.minLeaseMarginMs} = ${originTimeoutMs + DEFAULTS.minLeaseMarginMs}` +
				" (a lease must outlive the request's deadline, or a permit could be handed out twice)",
		);
		return null;
	}
	return { originTimeoutMs, maxHoldMs };
}

function formatIssue(issue: z.core.$ZodIssue, root: unknown): string[] {
	const path = ["LIMITS", ...issue.path].reduce<string>(
		(acc, key) => (typeof key === "number" ? `${acc}[${key}]` : `${acc}.${String(key)}`),
		"",
	).slice(1);
	if (issue.code === "unrecognized_keys") {
		return issue.keys.map((key) => `${path}.${key}: unknown setting, expected one of the documented settings (README, "Configuration reference")`);
	}
	return [`${path}: got ${show(valueAt(root, issue.path))}, ${issue.message}`];
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
