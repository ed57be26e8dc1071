import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { matchRoute } from "../src/config/match.ts";
import { DEFAULTS } from "../src/config/schema.ts";
import { errorsOf, valid } from "./helpers/config.ts";

const route = (extra: Record<string, unknown> = {}) => ({ name: "api", path: "/api/*", limit: 5, ...extra });

describe("parseConfig: valid configs", () => {
	it('reads cutRelease: a grace by default, none with "immediate", or the grace given', () => {
		const [byDefault, immediate, given] = valid({
			LIMITS: { routes: [route(), route({ name: "b", cutRelease: "immediate" }), route({ name: "c", cutRelease: { graceMs: 1_500 } })] },
		}).routes;
		expect([byDefault?.cutGraceMs, immediate?.cutGraceMs, given?.cutGraceMs]).toEqual([DEFAULTS.cutGraceMs, 0, 1_500]);
	});

	it("accepts the LIMITS of the wrangler.toml in use (whatever a user has edited it to)", () => {
		// valid() fails the test with every error the parser reports.
		const config = valid({ LIMITS: env.LIMITS, ORIGIN: undefined });
		expect(config.routes.every((r) => r.limit >= 1)).toBe(true);
	});

	it("fills in every default", () => {
		const [r] = valid({ LIMITS: { routes: [route()] } }).routes;
		expect(r).toMatchObject({
			originTimeoutMs: DEFAULTS.originTimeoutMs,
			maxHoldMs: DEFAULTS.originTimeoutMs + DEFAULTS.leaseMarginMs,
			failMode: "closed",
			methods: null,
			perKey: null,
			queue: null,
			dryRun: false,
			rateLimitHeaders: "refusals",
		});
	});

	it("resolves perKey, queue, dryRun and rateLimitHeaders", () => {
		const [r] = valid({
			LIMITS: {
				routes: [
					route({
						perKey: { limit: 2, by: "header:X-Api-Key" },
						queue: { size: 10, maxWaitMs: 500 },
						dryRun: true,
						rateLimitHeaders: "all",
					}),
				],
			},
		}).routes;
		expect(r).toMatchObject({
			perKey: { limit: 2, by: { kind: "header", name: "x-api-key" }, missing: "shared" },
			queue: { size: 10, maxWaitMs: 500 },
			dryRun: true,
			rateLimitHeaders: "all",
		});
		const [plain] = valid({ LIMITS: { routes: [route({ perKey: { limit: 1, by: "cookie:session", missing: "route-only" } })] } }).routes;
		expect(plain).toMatchObject({ perKey: { by: { kind: "cookie", name: "session" }, missing: "route-only" }, queue: null, dryRun: false });
	});

	it("derives maxHoldMs from originTimeoutMs when only the timeout is set", () => {
		const [r] = valid({ LIMITS: { routes: [route({ originTimeoutMs: 120_000 })] } }).routes;
		expect(r?.maxHoldMs).toBe(120_000 + DEFAULTS.leaseMarginMs);
	});

	it("treats missing LIMITS as no gated routes, everything passing through", () => {
		expect(valid({})).toEqual({ origin: null, adminPrefix: "/__gauge", paths: DEFAULTS.paths, routes: [], fallback: null });
	});

	it("accepts a limited default route", () => {
		const config = valid({ LIMITS: { default: { limit: 50, failMode: "open" } } });
		expect(config.fallback).toMatchObject({ name: "default", limit: 50, failMode: "open" });
	});

	it("accepts an http(s) ORIGIN with a port", () => {
		expect(valid({ ORIGIN: "http://127.0.0.1:8788" }).origin?.href).toBe("http://127.0.0.1:8788/");
	});
});

describe("parseConfig: invalid configs name the field, the value and what was expected", () => {
	it.each([
		["limit 0", { limit: 0 }, 'LIMITS.routes[0] ("api").limit: got 0, expected an integer >= 1'],
		["negative limit", { limit: -3 }, 'LIMITS.routes[0] ("api").limit: got -3, expected an integer >= 1'],
		["fractional limit", { limit: 2.5 }, 'LIMITS.routes[0] ("api").limit: got 2.5, expected an integer >= 1'],
		["limit as a string", { limit: "10" }, 'LIMITS.routes[0] ("api").limit: got "10", expected an integer >= 1'],
		["missing limit", { limit: undefined }, 'LIMITS.routes[0] ("api").limit: got nothing, expected an integer >= 1'],
		[
			"path without a slash",
			{ path: "api/*" },
			'LIMITS.routes[0] ("api").path: got "api/*", expected a URL path pattern starting with "/"',
		],
		["unbalanced pattern", { path: "/api/(" }, 'LIMITS.routes[0] ("api").path: got "/api/(", expected a valid URLPattern'],
		["bad name", { name: "has space" }, 'LIMITS.routes[0] ("has space").name: got "has space", expected 1-63 letters'],
		["lower-case method", { methods: ["get"] }, 'LIMITS.routes[0] ("api").methods[0]: got "get", expected an upper-case HTTP method'],
		["bad failMode", { failMode: "maybe" }, 'LIMITS.routes[0] ("api").failMode: got "maybe", expected "closed" or "open"'],
		[
			"zero timeout",
			{ originTimeoutMs: 0 },
			'LIMITS.routes[0] ("api").originTimeoutMs: got 0, expected a whole number of milliseconds >= 1',
		],
		[
			"a lease shorter than the deadline",
			{ originTimeoutMs: 10_000, maxHoldMs: 10_500 },
			'LIMITS.routes[0] ("api").maxHoldMs: got 10500, expected at least originTimeoutMs + 1000 = 11000',
		],
		["a typo in a setting", { limt: 3 }, 'LIMITS.routes[0] ("api").limt: unknown setting'],
		[
			"perKey without a source",
			{ perKey: { limit: 1 } },
			'LIMITS.routes[0] ("api").perKey.by: got nothing, expected "ip", "header:<name>" or "cookie:<name>"',
		],
		[
			"perKey from X-Forwarded-For's cousin",
			{ perKey: { limit: 1, by: "forwarded" } },
			'LIMITS.routes[0] ("api").perKey.by: got "forwarded", expected "ip"',
		],
		["perKey limit 0", { perKey: { limit: 0, by: "ip" } }, 'LIMITS.routes[0] ("api").perKey.limit: got 0, expected an integer >= 1'],
		[
			"bad missing-key rule",
			{ perKey: { limit: 1, by: "ip", missing: "ignore" } },
			'LIMITS.routes[0] ("api").perKey.missing: got "ignore", expected "shared" or "route-only"',
		],
		["queue of size 0", { queue: { size: 0, maxWaitMs: 100 } }, 'LIMITS.routes[0] ("api").queue.size: got 0, expected an integer >= 1'],
		[
			"queue without a deadline",
			{ queue: { size: 3 } },
			'LIMITS.routes[0] ("api").queue.maxWaitMs: got nothing, expected a whole number of milliseconds >= 1',
		],
		["dryRun as a string", { dryRun: "yes" }, 'LIMITS.routes[0] ("api").dryRun: got "yes", expected true or false'],
		[
			"bad rateLimitHeaders",
			{ rateLimitHeaders: "some" },
			'LIMITS.routes[0] ("api").rateLimitHeaders: got "some", expected "refusals", "all" or "none"',
		],
		[
			"cutRelease as a word",
			{ cutRelease: "later" },
			'LIMITS.routes[0] ("api").cutRelease: got "later", expected "immediate" or { graceMs = <milliseconds> }',
		],
		[
			"cutRelease with no grace",
			{ cutRelease: { graceMs: 0 } },
			'LIMITS.routes[0] ("api").cutRelease.graceMs: got 0, expected a whole number of milliseconds >= 1',
		],
	])("%s", (_, change, message) => {
		const rule = { ...route(), ...change };
		const errors = errorsOf({ LIMITS: { routes: [rule] } });
		expect(errors.join("\n")).toContain(message);
	});

	it("rejects duplicate names, pointing at the first", () => {
		const errors = errorsOf({ LIMITS: { routes: [route(), route({ path: "/other" })] } });
		expect(errors).toEqual(['LIMITS.routes[1] ("api").name: got "api", expected a unique name (LIMITS.routes[0] has it too)']);
	});

	it('reserves the name "default" for LIMITS.default', () => {
		expect(errorsOf({ LIMITS: { routes: [route({ name: "default" })] } })[0]).toContain('expected a name other than "default"');
	});

	it.each([
		["ftp://origin.example.com", "a non-http scheme"],
		["https://origin.example.com/base", "a path"],
		["https://origin.example.com/?x=1", "a query"],
		["not a url", "garbage"],
		[42, "a number"],
	])("rejects ORIGIN %j (%s)", (origin, _kind) => {
		const errors = errorsOf({ ORIGIN: origin });
		expect(errors).toEqual([
			`ORIGIN: got ${JSON.stringify(origin)}, expected an http(s) URL with no path, query or fragment, e.g. "https://origin.example.com"`,
		]);
	});

	it.each(["__gauge", "/__gauge/", "/a b", 7])("rejects ADMIN_PREFIX %j", (prefix) => {
		expect(errorsOf({ ADMIN_PREFIX: prefix })[0]).toMatch(/^ADMIN_PREFIX: got .*, expected a path of one or more segments/);
	});

	it("rejects a bad default limit", () => {
		expect(errorsOf({ LIMITS: { default: { limit: "lots" } } })).toEqual([
			'LIMITS.default.limit: got "lots", expected an integer >= 1 or "unlimited"',
		]);
	});

	it("reports every problem at once", () => {
		const errors = errorsOf({
			ORIGIN: "ftp://x",
			LIMITS: { routes: [route({ limit: 0 }), route({ name: "b", failMode: "sideways" })], default: { limit: -1 } },
		});
		expect(errors).toHaveLength(4);
		expect(errors.map((e) => e.split(":")[0])).toEqual([
			"ORIGIN",
			'LIMITS.routes[0] ("api").limit',
			'LIMITS.routes[1] ("b").failMode',
			"LIMITS.default.limit",
		]);
	});

	it("reports a bad pattern, a bad limit and a duplicate name in the same routes together", () => {
		const errors = errorsOf({ LIMITS: { routes: [route({ path: "nope", limit: 0 }), route({ host: "a b" })] } });
		expect(errors.map((e) => e.split(": got")[0]).sort()).toEqual([
			'LIMITS.routes[0] ("api").limit',
			'LIMITS.routes[0] ("api").path',
			'LIMITS.routes[1] ("api").host',
			'LIMITS.routes[1] ("api").name',
		]);
	});

	it("names every unknown setting of a table, and every bad item of a list", () => {
		const errors = errorsOf({ LIMITS: { routes: [route({ limt: 3, methds: ["GET"], methods: ["GET", 1, "post"] })] } });
		expect(errors.map((e) => e.split(": ")[0]).sort()).toEqual([
			'LIMITS.routes[0] ("api").limt',
			'LIMITS.routes[0] ("api").methds',
			'LIMITS.routes[0] ("api").methods[1]',
			'LIMITS.routes[0] ("api").methods[2]',
		]);
		expect(errors).toContain('LIMITS.routes[0] ("api").methods[1]: got 1, expected an upper-case HTTP method, e.g. "GET"');
	});

	it("rejects a LIMITS that is not a table", () => {
		expect(errorsOf({ LIMITS: "10" })[0]).toBe('LIMITS: got "10", expected a table ([vars.LIMITS])');
	});
});

describe("matchRoute", () => {
	const config = valid({
		LIMITS: {
			routes: [
				{ name: "writes", path: "/api/*", methods: ["POST", "PUT"], limit: 2 },
				{ name: "api", path: "/api/*", limit: 5 },
				{ name: "host", path: "/*", host: "*.example.com", limit: 1 },
				{ name: "user", path: "/users/:id", limit: 3 },
			],
			default: { limit: 100 },
		},
	});
	const pick = (method: string, url: string) => matchRoute(config, method, url)?.name;

	it("takes the first rule that matches, honouring methods", () => {
		expect(pick("POST", "https://gate.test/api/items")).toBe("writes");
		expect(pick("GET", "https://gate.test/api/items")).toBe("api");
	});

	it("matches hosts, named parameters and the query-free path", () => {
		expect(pick("GET", "https://shop.example.com/anything")).toBe("host");
		expect(pick("GET", "https://gate.test/users/42?x=1")).toBe("user");
		expect(pick("GET", "https://gate.test/users/42/orders")).toBe("default");
	});

	it("falls back to the default route, or to none when it is unlimited", () => {
		expect(pick("GET", "https://gate.test/elsewhere")).toBe("default");
		expect(matchRoute(valid({ LIMITS: { routes: [route()] } }), "GET", "https://gate.test/elsewhere")).toBeNull();
	});
});

describe("[vars.LIMITS.default] without a limit", () => {
	it("leaves unmatched requests unlimited, as no table does, and still checks its other settings", () => {
		expect(valid({ LIMITS: { default: { failMode: "open" } } }).fallback).toBeNull();
		expect(errorsOf({ LIMITS: { default: { failMode: "maybe" } } })).toEqual([
			'LIMITS.default.failMode: got "maybe", expected "closed" or "open"',
		]);
	});
});

describe("every problem at once, named by route (issue 19)", () => {
	it("a misspelt setting hides neither the missing limit nor a lease too short, and suggests the setting meant", () => {
		const reports = { name: "reports", path: "/reports/*", limt: 4, originTimeoutMs: 10_000, maxHoldMs: 10_500 };
		const errors = errorsOf({ LIMITS: { routes: [route(), reports] } });
		expect(errors).toEqual([
			'LIMITS.routes[1] ("reports").limt: unknown setting, did you mean "limit"? (docs/configuration.md)',
			'LIMITS.routes[1] ("reports").limit: got nothing, expected an integer >= 1 (or adaptive = { min, max } to learn it)',
			expect.stringContaining('LIMITS.routes[1] ("reports").maxHoldMs: got 10500, expected at least originTimeoutMs + 1000 = 11000'),
		]);
	});

	it("an unknown key beside routes hides none of the routes' problems", () => {
		const errors = errorsOf({ LIMITS: { rotues: [], routes: [route({ limit: 0 })] } });
		expect(errors.map((e) => e.split(":")[0])).toEqual(["LIMITS.rotues", 'LIMITS.routes[0] ("api").limit']);
		expect(errors[0]).toContain('did you mean "routes"?');
	});

	it("the default route's problems come together too", () => {
		const errors = errorsOf({ LIMITS: { default: { limit: 5, failmode: "open", originTimeoutMs: 10_000, maxHoldMs: 10_001 } } });
		expect(errors.map((e) => e.split(":")[0])).toEqual(["LIMITS.default.failmode", "LIMITS.default.maxHoldMs"]);
		expect(errors[0]).toContain('did you mean "failMode"?');
	});

	it("suggests nothing for a word close to no setting", () => {
		expect(errorsOf({ LIMITS: { routes: [route({ colour: "red" })] } })).toEqual([
			'LIMITS.routes[0] ("api").colour: unknown setting, expected one of the documented settings (docs/configuration.md)',
		]);
	});
});
