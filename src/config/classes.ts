// Priority classes of a route (issue 21): the `classes` list and `defaultClass`, checked and compiled once.
import type { Check, Issue } from "./check.ts";
import { is, list, matching, oneOf, optional, table, validate } from "./check.ts";
import { patternError } from "./pattern.ts";

/** How a request is told to belong to a class: every condition given must hold. */
export interface ClassMatch {
	/** Path and host (URLPattern), when either was given. */
	readonly pattern: URLPattern | null;
	/** Upper-case methods. */
	readonly methods: ReadonlySet<string> | null;
	/** A header's exact value (name lower-case). A client can set it: only with `trusted = true`. */
	readonly header: { readonly name: string; readonly value: string } | null;
	/** A cookie's exact value. A client can set it: only with `trusted = true`. */
	readonly cookie: { readonly name: string; readonly value: string } | null;
}

export interface PriorityClass {
	readonly name: string;
	/** The fraction of the limit this class (with the classes below it) leaves free for the classes above it. */
	readonly headroom: number;
	/** Null: matches nothing by itself (the default class, or a class the library picks with a function). */
	readonly match: ClassMatch | null;
}

export interface PriorityClasses {
	/** Most critical first. */
	readonly list: readonly PriorityClass[];
	/** Where a request no class matched goes. */
	readonly defaultIndex: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const named = table(
	{ name: matching(TOKEN, "expected a header or cookie name"), value: is((v): v is string => typeof v === "string", "expected a string") },
	'expected a table { name = "...", value = "..." }',
);
const matchTable = table(
	{
		path: optional(is((v): v is string => typeof v === "string" && v.startsWith("/"), 'expected a URL path pattern starting with "/"')),
		host: optional(is((v): v is string => typeof v === "string", "expected a host name pattern")),
		methods: optional(list(matching(/^[A-Z]+$/, 'expected an upper-case HTTP method, e.g. "GET"'), "expected a list of HTTP methods")),
		header: optional(named),
		cookie: optional(named),
	},
	"expected a table (match = { path, host, methods, header, cookie })",
);
const classTable = table(
	{
		name: matching(NAME, "expected 1-63 letters, digits, '-' or '_', starting with a letter or digit"),
		headroom: is((v): v is number => typeof v === "number" && v >= 0 && v < 1, "expected a number from 0 (inclusive) to 1 (exclusive)"),
		match: optional(matchTable),
		trusted: optional(oneOf([true, false], "expected true or false")),
	},
	"expected a table { name, headroom, match, trusted }",
);
const classList = list(classTable, "expected a list of class tables, most critical first", "expected at least one class");

/** The classes input as the schema lets it through (each checked again here, so the route's own schema stays small). */
export const classesSetting: Check<unknown[]> = list(
	(v) => v,
	"expected a list of class tables, most critical first",
	"expected at least one class",
);

/**
 * Checks and compiles `classes` and `defaultClass`, pushing every problem (field, value, what was expected) onto
 * `errors`. Returns null when there are no classes, or when something was wrong (then `errors` says what).
 */
export function resolveClasses(raw: unknown, defaultClass: unknown, at: string, errors: string[]): PriorityClasses | null {
	if (raw === undefined) {
		if (defaultClass !== undefined) errors.push(`${at}.defaultClass: got ${show(defaultClass)}, expected no defaultClass without classes`);
		return null;
	}
	const parsed = validate(classList, raw);
	if (!parsed.ok) {
		errors.push(...parsed.issues.map((issue) => describe(issue, `${at}.classes`, raw)));
		return null;
	}
	const before = errors.length;
	const names = parsed.value.map((c) => c.name);
	parsed.value.forEach((c, i) => {
		const here = `${at}.classes[${i}]`;
		if (names.indexOf(c.name) !== i) errors.push(`${here}.name: got "${c.name}", expected a unique class name`);
		const above = parsed.value[i - 1];
		if (above && c.headroom < above.headroom) {
			errors.push(
				`${here}.headroom: got ${c.headroom}, expected at least ${above.headroom} (the headroom of "${above.name}" above it): a less critical class must leave at least as much free as a more critical one`,
			);
		}
		for (const source of ["header", "cookie"] as const) {
			if (c.match?.[source] && c.trusted !== true) {
				errors.push(
					`${here}.match.${source}: got ${show(c.match[source])}, expected trusted = true on the class to classify by a ${source} a client can set: any client could send it and claim class "${c.name}"; set trusted = true only when something you run in front of the gate sets or strips it`,
				);
			}
		}
		const patterns: [string, string | undefined, (v: string) => URLPatternInit][] = [
			["path", c.match?.path, (v) => ({ pathname: v })],
			["host", c.match?.host, (v) => ({ hostname: v })],
		];
		for (const [field, value, init] of patterns) {
			const problem = value === undefined ? null : patternError(init(value));
			if (problem) errors.push(`${here}.match.${field}: got ${show(value)}, expected a valid URLPattern (${problem})`);
		}
	});
	const defaultIndex = defaultClass === undefined ? names.length - 1 : names.indexOf(String(defaultClass));
	if (typeof defaultClass !== "undefined" && (typeof defaultClass !== "string" || defaultIndex < 0)) {
		errors.push(
			`${at}.defaultClass: got ${show(defaultClass)}, expected the name of one of the classes (${names.map((n) => `"${n}"`).join(", ")})`,
		);
	}
	if (errors.length > before) return null;
	const classes = parsed.value.map((c) => ({ name: c.name, headroom: c.headroom, match: c.match ? compileMatch(c.match) : null }));
	return { list: classes, defaultIndex };
}

function compileMatch(m: {
	path?: string | undefined;
	host?: string | undefined;
	methods?: string[] | undefined;
	header?: { name: string; value: string } | undefined;
	cookie?: { name: string; value: string } | undefined;
}): ClassMatch {
	const pattern =
		m.path !== undefined || m.host !== undefined ? new URLPattern({ pathname: m.path ?? "*", hostname: m.host ?? "*" }) : null;
	return {
		pattern,
		methods: m.methods ? new Set(m.methods) : null,
		header: m.header ? { name: m.header.name.toLowerCase(), value: m.header.value } : null,
		cookie: m.cookie ?? null,
	};
}

function describe(issue: Issue, at: string, root: unknown): string {
	const path = issue.path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : `${acc}.${key}`), at);
	if (issue.expected === null) return `${path}: unknown setting, expected one of ${(issue.known ?? []).map((k) => `"${k}"`).join(", ")}`;
	let value = root;
	for (const key of issue.path)
		value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
	return `${path}: got ${show(value)}, ${issue.expected}`;
}

function show(value: unknown): string {
	if (value === undefined) return "nothing";
	const text = JSON.stringify(value) ?? String(value);
	return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
