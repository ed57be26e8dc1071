// Issue 12's table end to end: on wrangler's local runtime, every spelling of a gated path is counted by
// its route (refused while the route is full) and reaches the origin as the canonical path.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalGate, RouteStatus } from "../../dev/gate.ts";
import { LOCAL_ADMIN_TOKEN, startGate } from "../../dev/gate.ts";
import type { Origin } from "../../dev/origin.ts";
import { SEEN_URL_HEADER, startOrigin } from "../../dev/origin.ts";

const LIMIT = 2;
/** Long enough for every spelling to be tried while the holders keep the route full. */
const HOLD_MS = 5_000;

interface Answer {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	body: string;
}

/**
 * Sends the request target exactly as written: fetch() would resolve dot segments before sending, and the
 * point is what the runtime and the gate make of the raw spelling. Every request carries its own deadline.
 */
function raw(
	base: string,
	target: string,
	{ method = "GET", timeoutMs = 5_000, headers = {} as Record<string, string> } = {},
): Promise<Answer> {
	const { hostname, port } = new URL(base);
	return new Promise((resolve, reject) => {
		const req = request({ hostname, port, path: target, method, headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
			let body = "";
			res.setEncoding("utf8");
			res.on("data", (chunk: string) => {
				body += chunk;
			});
			res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
			res.on("error", reject);
		});
		req.on("error", reject);
		req.end();
	});
}

const policyOf = (a: Answer): string | undefined => /^"([^"]+)"/.exec(String(a.headers["ratelimit-policy"] ?? ""))?.[1];

/** Spellings of /request, and the path the origin must receive for each (the query goes on as sent). */
const GATED: [string, string][] = [
	["/request", "/request"],
	["/./request", "/request"],
	["/x/../request", "/request"],
	["/x/%2e%2E/request", "/request"],
	["/re%71uest", "/request"],
	["/%72equest", "/request"],
	["/re%71uest?a=1", "/request?a=1"],
	["/%72%65%71%75%65%73%74", "/request"],
	["//request", "/request"],
	["/request/", "/request/"],
];

let origin: Origin;
let gate: LocalGate;

beforeAll(async () => {
	origin = await startOrigin();
	gate = await startGate({
		origin: origin.url,
		limits: { routes: [{ name: "request", path: "/request", limit: LIMIT, rateLimitHeaders: "all", originTimeoutMs: 20_000 }] },
	});
	// Warm the isolate and the route's Durable Object.
	expect((await raw(gate.url, "/request")).status).toBe(200);
	origin.reset();
});

afterAll(async () => {
	await gate?.close();
	await origin?.close();
});

describe("every spelling of /request is gated by its route", () => {
	it("refused while the route is full: no spelling reaches the origin", async () => {
		const holders = Array.from({ length: LIMIT }, () => raw(gate.url, `/request?delay=${HOLD_MS}`, { timeoutMs: HOLD_MS + 15_000 }));
		await until(async () => (await gate.inFlight("request")) === LIMIT);
		const before = await gate.status("request");

		const refused: string[] = [];
		for (const [spelling] of GATED) {
			const answer = await raw(gate.url, spelling);
			expect(answer.status, spelling).toBe(429);
			expect(policyOf(answer), spelling).toBe("request");
			refused.push(spelling);
		}
		expect(origin.stats().total).toBe(LIMIT);
		const after = await gate.status("request");
		// The refusals are the route's: counted by its Durable Object, or by the isolate's memory that it is full.
		const refusals = (s: RouteStatus) =>
			(s.counters.refused ?? 0) + ((s as { isolate?: { localRefusals?: number } }).isolate?.localRefusals ?? 0);
		// Refusals from the isolate's memory reach the route's object in a batch about a second later (docs/blocks.md).
		let counted = refusals(after) - refusals(before);
		await until(async () => {
			counted = refusals(await gate.status("request")) - refusals(before);
			return counted >= refused.length;
		}, 5_000).catch(() => undefined);
		expect(counted).toBe(refused.length);

		for (const holder of await Promise.all(holders)) expect(holder.status).toBe(200);
		expect(origin.stats().peak).toBe(LIMIT);
	});

	it("admitted when free, and the origin receives the canonical path", async () => {
		await until(async () => (await gate.inFlight("request")) === 0);
		const before = await gate.status("request");
		for (const [spelling, seen] of GATED) {
			const answer = await raw(gate.url, spelling);
			expect(answer.status, spelling).toBe(200);
			expect(policyOf(answer), spelling).toBe("request");
			expect(answer.headers[SEEN_URL_HEADER], spelling).toBe(seen);
		}
		const after = await gate.status("request");
		expect((after.counters.admitted ?? 0) - (before.counters.admitted ?? 0)).toBe(GATED.length);
	});
});

describe("spellings with no safe canonical form: 400, never proxied", () => {
	it.each([
		["/request%2F", "an encoded slash (%2F)"],
		["/request%00", "an encoded NUL (%00)"],
		["/re%zzuest", 'invalid percent-encoding "%zz"'],
	])("%s", async (target, problem) => {
		const before = origin.stats().total;
		const plain = await raw(gate.url, target);
		expect(plain.status).toBe(400);
		expect(plain.body).toContain(problem);
		const json = await raw(gate.url, target, { headers: { accept: "application/problem+json" } });
		expect(json.status).toBe(400);
		expect(JSON.parse(json.body)).toMatchObject({ status: 400, detail: expect.stringContaining(problem) });
		expect(origin.stats().total).toBe(before);
	});
});

describe("what the defaults leave to the origin (docs/paths.md)", () => {
	it.each([
		// ";" is data by default (PATHS.pathParams = "keep"); Java servlet origins should set "strip" or "reject".
		["/request;x", "/request;x"],
		// Paths are case-sensitive unless the route sets ignoreCase.
		["/REQUEST", "/REQUEST"],
	])("%s is not this route's, and the origin receives %s", async (target, seen) => {
		const answer = await raw(gate.url, target);
		expect(answer.status).toBe(200);
		expect(policyOf(answer)).toBeUndefined();
		expect(answer.headers[SEEN_URL_HEADER]).toBe(seen);
	});
});

it("the admin prefix is matched on the canonical path: never proxied", async () => {
	const before = origin.stats().total;
	const answer = await raw(gate.url, "/x/../__gau%67e//status", { headers: { authorization: `Bearer ${LOCAL_ADMIN_TOKEN}` } });
	expect(answer.status).toBe(200);
	expect(JSON.parse(answer.body)).toHaveProperty("routes");
	expect(origin.stats().total).toBe(before);
});

it("every permit came back", async () => {
	await until(async () => (await gate.inFlight("request")) === 0);
	expect(origin.stats().peak).toBeLessThanOrEqual(LIMIT);
});

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > end) throw new Error("condition not reached in time");
		await new Promise((r) => setTimeout(r, 25));
	}
}
