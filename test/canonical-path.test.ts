import { describe, expect, it } from "vitest";
import type { PathOptions } from "../src/config/canonical-path.ts";
import { canonicalPath } from "../src/config/canonical-path.ts";

const DEFAULTS: PathOptions = { mergeSlashes: true, encodedSlashes: "reject", pathParams: "keep" };

function canonical(path: string, options: Partial<PathOptions> = {}): string {
	const result = canonicalPath(path, { ...DEFAULTS, ...options });
	if (!result.ok) throw new Error(`expected ${path} to be normalized, got: ${result.problem}`);
	return result.path;
}

function problem(path: string, options: Partial<PathOptions> = {}): string {
	const result = canonicalPath(path, { ...DEFAULTS, ...options });
	if (result.ok) throw new Error(`expected ${path} to be refused, got ${result.path}`);
	return result.problem;
}

describe("canonicalPath: RFC 3986 §6.2.2", () => {
	it.each([
		["/request", "/request"],
		["/re%71uest", "/request"],
		["/%72equest", "/request"],
		["/%72%65%71%75%65%73%74", "/request"],
		["/a%2db%2Ec%5fd%7Ee%41%7a%30", "/a-b.c_d~eAz0"],
	])("decodes percent-encoded unreserved characters (§6.2.2.2): %s", (path, expected) => {
		expect(canonical(path)).toBe(expected);
	});

	it("upper-cases the hex of what stays encoded (§6.2.2.1) and decodes nothing reserved", () => {
		expect(canonical("/caf%c3%a9/%3a%40%21%20%25%3B%3f%23")).toBe("/caf%C3%A9/%3A%40%21%20%25%3B%3F%23");
		// "%2571" is "%71" spelled as data: decoding twice would turn it into "q".
		expect(canonical("/re%2571uest")).toBe("/re%2571uest");
	});

	it.each([
		["/./request", "/request"],
		["/x/../request", "/request"],
		["/../../request", "/request"],
		["/a/b/../../request", "/request"],
		["/a/./b/.", "/a/b/"],
		["/a/b/..", "/a/"],
		["/..", "/"],
		["/a/..", "/"],
		["/%2E%2e/request", "/request"],
		["/x/.%2E/request", "/request"],
		["/x/%2E/request", "/x/request"],
		["/a/..b/.c/c./...", "/a/..b/.c/c./..."],
	])("removes dot segments (§5.2.4), the decoded ones too: %s", (path, expected) => {
		expect(canonical(path)).toBe(expected);
	});

	it("merges repeated slashes but keeps one trailing slash; mergeSlashes = false keeps them all", () => {
		expect(canonical("//request")).toBe("/request");
		expect(canonical("/a///b//")).toBe("/a/b/");
		expect(canonical("//")).toBe("/");
		expect(canonical("//request", { mergeSlashes: false })).toBe("//request");
		expect(canonical("/a//b/", { mergeSlashes: false })).toBe("/a//b/");
	});

	it('resolves dot segments before merging slashes, as the URL parser does: "/a//../b" is "/a/b"', () => {
		// ".." takes the empty segment with it (RFC 3986 §5.2.4); new URL("http://h/a//../b").pathname agrees.
		expect(canonical("/a//../b")).toBe(new URL("http://h/a//../b").pathname);
		expect(canonical("/a//../b")).toBe("/a/b");
		expect(canonical("/a//../b", { mergeSlashes: false })).toBe("/a/b");
		expect(canonical("//..//a/.//")).toBe("/a/");
	});

	it("never adds or removes a trailing slash of its own", () => {
		expect(canonical("/request/")).toBe("/request/");
		expect(canonical("/")).toBe("/");
	});

	it("keeps the case of the path: case is the origin's business (see ignoreCase)", () => {
		expect(canonical("/REQUEST/%7a")).toBe("/REQUEST/z");
	});
});

describe("canonicalPath: what has no safe canonical form", () => {
	it.each(["/a%zzb", "/100%", "/%", "/a%2", "/%g1", "/%%41"])("refuses invalid percent-encoding: %s", (path) => {
		expect(problem(path)).toMatch(/^invalid percent-encoding "%.{0,2}": "%" must be followed by two hex digits$/);
	});

	it("refuses an encoded NUL", () => {
		expect(problem("/request%00.json")).toBe("an encoded NUL (%00) in the path");
	});

	it("refuses a path that is not absolute", () => {
		expect(problem("request")).toContain('must start with "/"');
	});
});

describe("canonicalPath: encoded slashes and backslashes", () => {
	it('"reject" (the default) refuses %2F and %5C in either case', () => {
		expect(problem("/request%2F")).toBe("an encoded slash (%2F) in the path; this gate refuses them");
		expect(problem("/a%2fb")).toContain("%2F");
		expect(problem("/a%5cb")).toBe("an encoded backslash (%5C) in the path; this gate refuses them");
	});

	it('"decode" makes both separators, then merges and resolves as if they had been sent as "/"', () => {
		expect(canonical("/a%2Fb%5cc", { encodedSlashes: "decode" })).toBe("/a/b/c");
		expect(canonical("/x%2F..%2Frequest", { encodedSlashes: "decode" })).toBe("/request");
		expect(canonical("/request%2F%2F", { encodedSlashes: "decode" })).toBe("/request/");
	});

	it('"keep" leaves them as data inside one segment, hex upper-cased', () => {
		expect(canonical("/a%2fb/..%5c..", { encodedSlashes: "keep" })).toBe("/a%2Fb/..%5C..");
	});
});

describe('canonicalPath: ";" path parameters', () => {
	it('"keep" (the default) treats ";" as data, as RFC 3986 and most origins do', () => {
		expect(canonical("/request;x")).toBe("/request;x");
		expect(canonical("/a/..;/b")).toBe("/a/..;/b");
	});

	it('"strip" drops them from every segment as a servlet container does, "..;" included', () => {
		expect(canonical("/request;jsessionid=1", { pathParams: "strip" })).toBe("/request");
		expect(canonical("/a;x/b;y=1;z/c", { pathParams: "strip" })).toBe("/a/b/c");
		expect(canonical("/public/..;/admin", { pathParams: "strip" })).toBe("/admin");
		expect(canonical("/;x/request", { pathParams: "strip" })).toBe("/request");
		// An encoded ";" is data, not a parameter: Tomcat strips before it decodes.
		expect(canonical("/a%3bx", { pathParams: "strip" })).toBe("/a%3Bx");
	});

	it('"reject" refuses any ";" in the path', () => {
		expect(problem("/request;x", { pathParams: "reject" })).toBe('a ";" parameter in the path; this gate refuses them');
		expect(canonical("/a%3Bx", { pathParams: "reject" })).toBe("/a%3Bx");
	});
});
