// PATHS, ignoreCase and headFollowsGet: defaults, validation, and how matching uses them.
import { describe, expect, it } from "vitest";
import { matchRoute } from "../src/config/match.ts";
import { errorsOf, valid } from "./helpers/config.ts";

const route = (extra: Record<string, unknown> = {}) => ({ name: "r", path: "/request", limit: 5, ...extra });

describe("PATHS", () => {
	it("defaults: merge slashes, refuse encoded slashes, keep ';', a trailing slash either way", () => {
		expect(valid({}).paths).toEqual({ mergeSlashes: true, encodedSlashes: "reject", pathParams: "keep", trailingSlash: "either" });
	});

	it("takes every setting", () => {
		const paths = { mergeSlashes: false, encodedSlashes: "decode", pathParams: "strip", trailingSlash: "exact" };
		expect(valid({ PATHS: paths }).paths).toEqual(paths);
		expect(valid({ PATHS: { encodedSlashes: "keep" } }).paths).toMatchObject({ mergeSlashes: true, encodedSlashes: "keep" });
	});

	it.each([
		[{ mergeSlashes: "yes" }, 'PATHS.mergeSlashes: got "yes", expected true or false'],
		[{ encodedSlashes: "allow" }, 'PATHS.encodedSlashes: got "allow", expected "reject", "decode" or "keep"'],
		[{ pathParams: true }, 'PATHS.pathParams: got true, expected "keep", "strip" or "reject"'],
		[{ trailingSlash: "strip" }, 'PATHS.trailingSlash: got "strip", expected "either" or "exact"'],
		[{ mergeSlash: true }, "PATHS.mergeSlash: unknown setting"],
		["merge", 'PATHS: got "merge", expected a table (PATHS = { mergeSlashes, encodedSlashes, pathParams, trailingSlash })'],
	])("rejects %j", (paths, message) => {
		expect(errorsOf({ PATHS: paths }).join("\n")).toContain(message);
	});

	it("reports PATHS problems together with the routes' ones", () => {
		const errors = errorsOf({ PATHS: { pathParams: "drop" }, LIMITS: { routes: [route({ limit: 0 })] } });
		expect(errors.map((e) => e.split(":")[0])).toEqual(["PATHS.pathParams", 'LIMITS.routes[0] ("r").limit']);
	});
});

describe("a route's path must be spelled canonically, or it could never match", () => {
	it.each([
		["/re%71uest", 'got "/re%71uest", expected the same path spelled canonically, "/request"'],
		["/caf%c3%a9", 'expected the same path spelled canonically, "/caf%C3%A9"'],
		["/a/./b", '"/a/b"'],
		["/a/../b", '"/b"'],
		["/api//v1", '"/api/v1"'],
		["/files%2F*", "expected a path that can match (an encoded slash (%2F) in the path; this gate refuses them)"],
		["/100%", 'expected a path that can match (invalid percent-encoding "%"'],
	])("%s", (path, message) => {
		const [error] = errorsOf({ LIMITS: { routes: [route({ path })] } });
		expect(error).toMatch(/^LIMITS\.routes\[0\] \("r"\)\.path: got /);
		expect(error).toContain(message);
		expect(error).toContain('(docs/paths.md, "Path normalization")');
	});

	it("follows PATHS: a double slash is fine when slashes are not merged", () => {
		expect(valid({ PATHS: { mergeSlashes: false }, LIMITS: { routes: [route({ path: "/api//v1" })] } }).routes).toHaveLength(1);
	});

	it("accepts URLPattern syntax, which has nothing to normalize", () => {
		const paths = ["/users/:id", "/api/*", "/users/:id(\\d+)", "/files{/:name}?", "/caf%C3%A9", "/a;b", "/request{/}?"];
		expect(valid({ LIMITS: { routes: paths.map((path, i) => route({ name: `r${i}`, path })) } }).routes).toHaveLength(paths.length);
	});
});

describe("ignoreCase and headFollowsGet", () => {
	it.each([
		[{ ignoreCase: "yes" }, 'LIMITS.routes[0] ("r").ignoreCase: got "yes", expected true or false'],
		[{ headFollowsGet: 1 }, 'LIMITS.routes[0] ("r").headFollowsGet: got 1, expected true or false'],
	])("rejects %j", (change, message) => {
		expect(errorsOf({ LIMITS: { routes: [route(change)] } })).toEqual([message]);
	});

	it("adds HEAD to a route that lists GET, unless headFollowsGet = false", () => {
		const config = valid({
			LIMITS: {
				routes: [
					route({ name: "a", methods: ["GET", "POST"] }),
					route({ name: "b", methods: ["POST"] }),
					route({ name: "c", methods: ["GET"], headFollowsGet: false }),
				],
			},
		});
		expect(config.routes.map((r) => [...(r.methods ?? [])].sort())).toEqual([["GET", "HEAD", "POST"], ["POST"], ["GET"]]);
	});

	it("ADMIN_PREFIX with a dot segment is refused: it could never match a canonical path", () => {
		expect(errorsOf({ ADMIN_PREFIX: "/admin/.." })[0]).toContain('none of them "." or ".."');
		expect(valid({ ADMIN_PREFIX: "/.well-known/gauge" }).adminPrefix).toBe("/.well-known/gauge");
	});
});

describe("matchRoute with a canonical path", () => {
	const config = valid({
		LIMITS: {
			routes: [
				route({ name: "writes", path: "/items", methods: ["PATCH", "PUT"] }),
				route({ name: "reads", path: "/items", methods: ["GET"] }),
				route({ name: "ci", path: "/Files/*", ignoreCase: true }),
				route({ name: "dir", path: "/dir/" }),
			],
		},
	});
	const pick = (method: string, path: string) => matchRoute(config, method, "https://gate.test/ignored?x=1", path)?.name ?? null;

	it("matches methods upper-cased, so no spelling of a method dodges its route", () => {
		expect(pick("patch", "/items")).toBe("writes");
		expect(pick("Put", "/items")).toBe("writes");
		expect(pick("head", "/items")).toBe("reads");
		expect(pick("DELETE", "/items")).toBeNull();
	});

	it("matches the path it is given, not the URL's", () => {
		expect(pick("GET", "/FILES/x")).toBe("ci");
		expect(pick("GET", "/files")).toBe("ci");
	});

	it("a path with one trailing slash more or less matches the same route", () => {
		expect(pick("GET", "/items/")).toBe("reads");
		expect(pick("GET", "/dir")).toBe("dir");
		expect(pick("GET", "/items//")).toBeNull();
		const exact = valid({ PATHS: { trailingSlash: "exact" }, LIMITS: { routes: [route()] } });
		expect(matchRoute(exact, "GET", "https://gate.test/", "/request/")).toBeNull();
	});
});
