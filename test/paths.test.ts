// Through the gate: the canonical path decides the route, the admin surface and what the origin receives.
import { describe, expect, it } from "vitest";
import { SEEN_URL_HEADER } from "../dev/origin.ts";
import type { Gate, Limits } from "./helpers/gate.ts";
import { eventually, expectInFlight, gate } from "./helpers/gate.ts";

const deadline = () => AbortSignal.timeout(5_000);

/** Sends `path` as written (never resolved as a relative URL) and returns what the gate and the origin did. */
async function send(g: Gate, path: string, init: RequestInit = {}) {
	const res = await g.fetch(`http://gate.test${path}`, { ...init, signal: deadline() });
	const body = await res.text();
	const policy = /^"([^"]+)"/.exec(res.headers.get("ratelimit-policy") ?? "")?.[1];
	const names = g.routeNames();
	const route = policy === undefined ? null : (names.find((n) => n === policy)?.replace(/-\d+-[0-9a-f]{8}$/, "") ?? policy);
	return { status: res.status, body, route, seen: res.headers.get(SEEN_URL_HEADER), headers: res.headers };
}

const route = (extra: Record<string, unknown>) => ({ limit: 100, rateLimitHeaders: "all", ...extra });

describe("paths with no safe canonical form: 400, never proxied, no permit taken", () => {
	const g = gate({ routes: [route({ name: "all", path: "/*" })] });

	it.each([
		["/re%zzuest", 'invalid percent-encoding "%zz"'],
		["/100%", 'invalid percent-encoding "%"'],
		["/request%00.json", "an encoded NUL (%00)"],
		["/request%2F", "an encoded slash (%2F)"],
		["/a%5cb", "an encoded backslash (%5C)"],
	])("%s", async (path, problem) => {
		const plain = await send(g, path);
		expect(plain.status).toBe(400);
		expect(plain.headers.get("content-type")).toBe("text/plain; charset=utf-8");
		expect(plain.body).toContain(`Bad request: The request path cannot be normalized safely: ${problem}`);
		const json = await send(g, path, { headers: { accept: "application/json" } });
		expect(json.status).toBe(400);
		expect(json.headers.get("content-type")).toBe("application/problem+json");
		expect(JSON.parse(json.body)).toMatchObject({
			type: "about:blank",
			title: "Bad request",
			status: 400,
			detail: expect.stringContaining(problem),
		});
		expect(json.seen).toBeNull();
	});

	it("reached neither the origin nor the gauge", async () => {
		await g.settle();
		expect((await g.origin()).total).toBe(0);
		expect((await g.status("all")).counters.admitted).toBe(0);
	});
});

describe("routes match the canonical path, and the origin receives it", () => {
	const g = gate({ routes: [route({ name: "request", path: "/request" })], default: { limit: 100, rateLimitHeaders: "all" } });

	it.each([
		["/request", "/request", "request"],
		["/re%71uest", "/request", "request"],
		["/%72equest", "/request", "request"],
		["/%72%65%71%75%65%73%74", "/request", "request"],
		["/./request", "/request", "request"],
		["/x/../request", "/request", "request"],
		["/x/%2e%2E/request", "/request", "request"],
		["//request", "/request", "request"],
		["/RE%71uest", "/REquest", "default"],
		["/x//..//request", "/x/request", "default"],
	])("%s reaches the origin as %s, counted by route %s", async (path, seen, name) => {
		expect(await send(g, path)).toMatchObject({ status: 200, seen, route: name });
	});

	it("leaves the query as sent: it is not part of matching", async () => {
		const res = await send(g, "/re%71uest?q=re%71uest&p=%2F..%2F&x=//y/../z&bad=%zz");
		expect(res.route).toBe("request");
		expect(res.seen).toBe("/request?q=re%71uest&p=%2F..%2F&x=//y/../z&bad=%zz");
	});
});

describe("the admin prefix is matched on the canonical path", () => {
	const g = gate({ routes: [route({ name: "all", path: "/*" })] }, { ADMIN_TOKEN: "secret" });
	const auth = { authorization: "Bearer secret" };

	it.each(["/__gauge/status", "/__gau%67e/status", "/x/../__gauge/status", "//__gauge//status", "/__gauge/%73tatus"])(
		"%s is the admin surface, never proxied",
		async (path) => {
			expect((await send(g, path)).status).toBe(401);
			const res = await send(g, path, { headers: auth });
			expect(res.status).toBe(200);
			expect(JSON.parse(res.body)).toHaveProperty("routes");
		},
	);

	it("sent nothing to the origin", async () => {
		expect((await g.origin()).total).toBe(0);
	});
});

describe("methods", () => {
	const limits: Limits = {
		routes: [
			route({ name: "patch", path: "/items", methods: ["PATCH"] }),
			route({ name: "reads", path: "/items", methods: ["GET"] }),
			route({ name: "get-only", path: "/strict", methods: ["GET"], headFollowsGet: false }),
		],
	};
	const g = gate(limits);

	it('are matched upper-cased: "patch" is gated by a PATCH route', async () => {
		expect((await send(g, "/items", { method: "patch" })).route).toBe("patch");
		expect((await send(g, "/items", { method: "PATCH" })).route).toBe("patch");
	});

	it("HEAD follows GET by default (RFC 9110 §9.3.2), and not with headFollowsGet = false", async () => {
		expect((await send(g, "/items", { method: "HEAD" })).route).toBe("reads");
		expect((await send(g, "/items", { method: "head" })).route).toBe("reads");
		expect((await send(g, "/strict", { method: "HEAD" })).route).toBeNull();
		expect((await send(g, "/strict", { method: "GET" })).route).toBe("get-only");
	});

	it('"patch" is refused while the PATCH route is full', async () => {
		const full = gate({ routes: [{ name: "patch", path: "/items", methods: ["PATCH"], limit: 1 }] });
		const holder = full.fetch("http://gate.test/items?delay=1500", { method: "PATCH", signal: AbortSignal.timeout(10_000) });
		await eventually(() => expectInFlight(full, "patch", 1));
		expect((await send(full, "/items", { method: "patch" })).status).toBe(429);
		expect((await holder).status).toBe(200);
		await full.settle();
		expect((await full.status("patch")).inFlight).toBe(0);
	});
});

describe("case: ignoreCase per route", () => {
	const g = gate({ routes: [route({ name: "ci", path: "/Files/*", ignoreCase: true }), route({ name: "cs", path: "/Docs/*" })] });

	it("matches any case where the route ignores it, and forwards the path's own case", async () => {
		const res = await send(g, "/fILES/A%62c");
		expect(res.route).toBe("ci");
		expect(res.seen).toBe("/fILES/Abc");
	});

	it("matches exactly elsewhere: paths are case-sensitive (RFC 3986 §6.2.2.1)", async () => {
		expect((await send(g, "/Docs/x")).route).toBe("cs");
		expect((await send(g, "/docs/x")).route).toBeNull();
	});
});

describe("trailing slash", () => {
	it('"either" (the default): one slash more or less matches the same route; the origin gets the path as sent', async () => {
		const g = gate({ routes: [route({ name: "request", path: "/request" }), route({ name: "dir", path: "/dir/" })] });
		const res = await send(g, "/re%71uest/");
		expect(res.route).toBe("request");
		expect(res.seen).toBe("/request/");
		expect((await send(g, "/dir")).route).toBe("dir");
		expect((await send(g, "/request//")).route).toBe("request");
	});

	it('"exact": only the path as written in the route', async () => {
		const g = gate({ routes: [route({ name: "request", path: "/request" })] }, { PATHS: { trailingSlash: "exact" } });
		expect((await send(g, "/request/")).route).toBeNull();
		expect((await send(g, "/request")).route).toBe("request");
	});
});

describe('";" path parameters', () => {
	const limits = { routes: [route({ name: "request", path: "/request" }), route({ name: "admin", path: "/admin/*" })] };

	it('"keep" (the default): ";" is data, the origin gets it as sent', async () => {
		const g = gate(limits);
		const res = await send(g, "/request;x");
		expect(res.route).toBeNull();
		expect(res.seen).toBe("/request;x");
	});

	it('"strip": gated as a servlet container would route it, and forwarded without the parameters', async () => {
		const g = gate(limits, { PATHS: { pathParams: "strip" } });
		expect(await send(g, "/request;jsessionid=1")).toMatchObject({ route: "request", seen: "/request" });
		expect(await send(g, "/public/..;/admin/x")).toMatchObject({ route: "admin", seen: "/admin/x" });
	});

	it('"reject": 400', async () => {
		const g = gate(limits, { PATHS: { pathParams: "reject" } });
		expect((await send(g, "/request;x")).status).toBe(400);
		expect((await g.origin()).total).toBe(0);
	});
});

describe("encoded slashes", () => {
	const limits = { routes: [route({ name: "request", path: "/request" }), route({ name: "files", path: "/files/:name" })] };

	it('"decode": separators, so "/x%2F..%2Frequest" is "/request"', async () => {
		const g = gate(limits, { PATHS: { encodedSlashes: "decode" } });
		expect(await send(g, "/x%2F..%2Frequest")).toMatchObject({ route: "request", seen: "/request" });
		expect(await send(g, "/files/a%5Cb")).toMatchObject({ route: null, seen: "/files/a/b" });
	});

	it('"keep": data inside one segment, forwarded encoded', async () => {
		const g = gate(limits, { PATHS: { encodedSlashes: "keep" } });
		expect(await send(g, "/files/a%2fb")).toMatchObject({ route: "files", seen: "/files/a%2Fb" });
		expect(await send(g, "/request%2f")).toMatchObject({ route: null, seen: "/request%2F" });
	});
});
