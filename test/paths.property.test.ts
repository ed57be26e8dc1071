// Every spelling of a path is the same path: it matches the same route and reaches the origin the same.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SEEN_URL_HEADER } from "../dev/origin.ts";
import { canonicalPath } from "../src/config/canonical-path.ts";
import { matchRoute } from "../src/config/match.ts";
import { parseConfig } from "../src/config/parse.ts";
import { gate } from "./helpers/gate.ts";

const LIMITS = {
	routes: [
		{ name: "exact", path: "/request", limit: 1000, rateLimitHeaders: "all" },
		{ name: "item", path: "/api/items/:id", limit: 1000, rateLimitHeaders: "all" },
		{ name: "files", path: "/Files/*", ignoreCase: true, limit: 1000, rateLimitHeaders: "all" },
		{ name: "api", path: "/api/*", limit: 1000, rateLimitHeaders: "all" },
	],
	default: { limit: 1000, rateLimitHeaders: "all" },
};
const parsed = parseConfig({ LIMITS });
if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
const config = parsed.config;
const routeOf = (path: string): string => matchRoute(config, "GET", "http://gate.test/", path)?.name ?? "(none)";

/** One character of a canonical path, and how it may be spelled. */
type Atom = { kind: "unreserved" | "encoded" | "raw"; text: string };

const UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
const atom: fc.Arbitrary<Atom> = fc.oneof(
	{ weight: 6, arbitrary: fc.constantFrom(...UNRESERVED).map((text) => ({ kind: "unreserved" as const, text })) },
	// Bytes that stay encoded: space, ":", "@", "%", UTF-8 of "é", ";", "?", "#", DEL, "/", "\" are not among them
	// (%2F and %5C are refused by default; see canonical-path.test.ts).
	{
		weight: 1,
		arbitrary: fc
			.constantFrom("20", "3A", "40", "25", "C3", "A9", "3B", "3F", "23", "7F")
			.map((h) => ({ kind: "encoded" as const, text: `%${h}` })),
	},
	// Sub-delimiters and the like that a URL keeps as they are (RFC 3986 §3.3 pchar).
	{
		weight: 1,
		arbitrary: fc
			.constantFrom("!", "$", "&", "'", "(", ")", "*", "+", ",", "=", ":", "@", ";")
			.map((text) => ({ kind: "raw" as const, text })),
	},
);
const segment = fc
	.array(atom, { minLength: 1, maxLength: 6 })
	.filter((atoms) => !["", ".", ".."].includes(atoms.map((a) => a.text).join("")));
const literal = (text: string): Atom[] => [...text].map((c) => ({ kind: "unreserved", text: c }));

/** Canonical paths aimed at each route, and at none. */
const basePath = fc
	.record({
		prefix: fc.constantFrom([], ["request"], ["api", "items"], ["api"], ["Files"]),
		rest: fc.array(segment, { maxLength: 3 }),
		trailingSlash: fc.boolean(),
	})
	.map(({ prefix, rest, trailingSlash }) => {
		const segments = [...prefix.map(literal), ...(prefix[0] === "request" ? [] : rest)];
		return { segments, trailingSlash: trailingSlash && segments.length > 0 };
	});
type Base = typeof basePath extends fc.Arbitrary<infer T> ? T : never;

const text = (base: Base): string =>
	`/${base.segments.map((s) => s.map((a) => a.text).join("")).join("/")}${base.trailingSlash ? "/" : ""}`;

const randomCase = (s: string, g: fc.GeneratorValue): string =>
	[...s].map((c) => (g(fc.boolean) ? c.toLowerCase() : c.toUpperCase())).join("");

/**
 * Another spelling of `base`: unreserved characters percent-encoded at random, hex in either case,
 * dot segments ("/.", "/x/..", encoded or not) before segments, runs of slashes (merged by default; not
 * between "x" and "..", where ".." would take the empty segment instead, RFC 3986 §5.2.4),
 * and letters in either case where the route ignores case.
 */
function spell(base: Base, flipCase: boolean, g: fc.GeneratorValue): string {
	const dot = () => g(fc.constantFrom, ".", "%2E", "%2e");
	const slash = () => "/".repeat(g(fc.integer, { min: 1, max: 3 }));
	let out = "";
	for (const seg of base.segments) {
		const detour = g(fc.constantFrom, "none", "dot", "up");
		if (detour === "dot") out += `${slash()}${dot()}`;
		if (detour === "up") out += `${slash()}x${g(fc.nat, 99)}/${dot()}${dot()}`;
		out += slash();
		for (const a of seg) {
			if (a.kind === "raw") out += a.text;
			else if (a.kind === "encoded") out += randomCase(a.text, g);
			else {
				const c = flipCase && /[a-z]/i.test(a.text) && g(fc.boolean) ? randomCase(a.text, g) : a.text;
				out += g(fc.boolean) ? randomCase(`%${c.charCodeAt(0).toString(16).padStart(2, "0")}`, g) : c;
			}
		}
	}
	return base.segments.length === 0 || base.trailingSlash ? `${out}${slash()}` : out;
}

const QUERIES = ["", "?a=1", "?q=re%71uest&p=%2F..%2F", "?x=//y/../z", "?%zz"];

/** The base and its spellings, each as the request path a client would send. */
const spellings = fc.tuple(basePath, fc.gen()).map(([base, g]) => {
	const canonical = text(base);
	const ignoresCase = routeOf(canonical) === "files";
	const count = g(fc.integer, { min: 1, max: 4 });
	return { canonical, ignoresCase, spellings: Array.from({ length: count }, () => spell(base, ignoresCase, g)) };
});

const sameUpToCase = (a: string, b: string, ignoresCase: boolean): boolean => (ignoresCase ? a.toLowerCase() === b.toLowerCase() : a === b);

describe("one canonical path per request (fast-check)", () => {
	it("every spelling normalizes to the same canonical path and matches the same route", () => {
		const hit = new Set<string>();
		fc.assert(
			fc.property(spellings, ({ canonical, ignoresCase, spellings: list }) => {
				expect(canonicalPath(canonical, config.paths)).toEqual({ ok: true, path: canonical });
				const route = routeOf(canonical);
				hit.add(route);
				for (const spelling of list) {
					const result = canonicalPath(spelling, config.paths);
					if (!result.ok) throw new Error(`${spelling}: ${result.problem}`);
					expect(sameUpToCase(result.path, canonical, ignoresCase), `${spelling} -> ${result.path}, expected ${canonical}`).toBe(true);
					// Normalizing twice changes nothing.
					expect(canonicalPath(result.path, config.paths)).toEqual(result);
					expect(routeOf(result.path), spelling).toBe(route);
				}
			}),
			{ numRuns: 2000 },
		);
		// The generator reaches every route, so the property is about routes, not about misses.
		expect([...hit].sort()).toEqual(["api", "default", "exact", "files", "item"]);
	});

	it("through the gate: every spelling is counted by the same route and reaches the origin as the same path", async () => {
		const g = gate(LIMITS);
		const names = g.routeNames();
		const routeFrom = (res: Response): string => {
			const policy = /^"([^"]+)"/.exec(res.headers.get("ratelimit-policy") ?? "")?.[1] ?? "(no policy)";
			const i = names.indexOf(policy);
			return i >= 0 ? (LIMITS.routes[i]?.name ?? policy) : policy;
		};
		let sent = 0;
		await fc.assert(
			fc.asyncProperty(spellings, fc.constantFrom(...QUERIES), async ({ canonical, ignoresCase, spellings: list }, query) => {
				const route = routeOf(canonical);
				for (const spelling of [canonical, ...list]) {
					// Concatenated, not resolved: "//request" is a path here, not a host.
					const res = await g.fetch(`http://gate.test${spelling}${query}`, { signal: AbortSignal.timeout(5_000) });
					await res.arrayBuffer();
					sent++;
					expect(res.status, spelling).toBe(200);
					expect(routeFrom(res), spelling).toBe(route);
					const seen = res.headers.get(SEEN_URL_HEADER) ?? "";
					// The query is not part of matching and goes on exactly as sent.
					expect(seen.endsWith(query), `${spelling}${query} reached the origin as ${seen}`).toBe(true);
					const seenPath = seen.slice(0, seen.length - query.length);
					expect(sameUpToCase(seenPath, canonical, ignoresCase), `${spelling} reached the origin as ${seen}`).toBe(true);
				}
			}),
			{ numRuns: 60 },
		);
		await g.settle();
		expect((await g.origin()).total).toBe(sent);
		for (const r of LIMITS.routes) expect((await g.status(r.name)).inFlight).toBe(0);
	});
});
