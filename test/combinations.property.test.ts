// Random combinations of the gate's features, through the gate, against the real objects and origin (fast-check):
// per-key (fixed, fair, both) × classes × queue (FIFO, adaptive) × shards × dry-run × runtime limit × reshard (two configs side by side), with clients that
// leave. Invariants: the origin never runs more than the limit in force (per route and per key), nothing that
// was given back is reaped, every permit comes back, and each request counts once per limit it asked.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TAG_HEADER } from "../dev/origin.ts";
import { keyObjectName } from "../src/core/partition.ts";
import { isolateCounters } from "../src/isolate/isolate-counters.ts";
import type { GaugeStatus } from "../src/object/durable-object.ts";
import type { Gate } from "./helpers/gate.ts";
import { eventually, gate } from "./helpers/gate.ts";

const TOKEN = "combinations-token";
const KEYS = ["a", "b", "c"] as const;
/** Longer than any handler below: a cut exchange's origin work stays counted until it is done. */
const GRACE_MS = 250;

const scenario = fc
	.record({
		limit: fc.integer({ min: 2, max: 4 }),
		shards: fc.integer({ min: 1, max: 2 }),
		/** A second config with another shard count, running side by side (a rollout), or none. */
		reshard: fc.option(fc.integer({ min: 1, max: 3 })),
		perKey: fc.option(
			fc.record({ limit: fc.option(fc.integer({ min: 1, max: 2 })), fair: fc.boolean() }).filter((p) => p.fair || p.limit !== null),
		),
		/** Priority classes (issue 21): "critical" by a trusted header, "bulk" the rest, with half the limit kept free. */
		classes: fc.boolean(),
		queue: fc.option(
			fc.record({
				size: fc.integer({ min: 1, max: 3 }),
				maxWaitMs: fc.integer({ min: 50, max: 250 }),
				order: fc.constantFrom("fifo", "adaptive"),
			}),
		),
		dryRun: fc.boolean(),
		override: fc.option(fc.integer({ min: 1, max: 5 })),
		requests: fc.array(
			fc.record({
				key: fc.constantFrom(...KEYS),
				critical: fc.boolean(),
				delay: fc.integer({ min: 0, max: 150 }),
				viaSecond: fc.boolean(),
				/** The client leaves after this long, or waits for its answer. */
				leaveAfter: fc.option(fc.integer({ min: 0, max: 200 }), { freq: 4 }),
			}),
			{ minLength: 3, maxLength: 10 },
		),
	})
	.filter((s) => s.shards <= s.limit && (s.reshard ?? 1) <= s.limit);

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** Which limits a response says it passed (granted) or would have been refused by: from its RateLimit field. */
function levels(res: Response, route: string): { key?: "granted" | "refused"; route?: "granted" | "refused" } {
	const out: { key?: "granted" | "refused"; route?: "granted" | "refused" } = {};
	for (const item of (res.headers.get("ratelimit") ?? "").split(",").map((s) => s.trim())) {
		const name = /^"([^"]+)"/.exec(item)?.[1];
		const outcome = item.includes(";t=") ? "refused" : "granted";
		if (name === `${route}.per-key`) out.key = outcome;
		else if (name === route) out.route = outcome;
	}
	return out;
}

async function run(s: Scenario): Promise<void> {
	const rule = (shards: number) => ({
		routes: [
			{
				name: "combo",
				path: "/*",
				limit: s.limit,
				shards,
				dryRun: s.dryRun,
				rateLimitHeaders: "all",
				cutRelease: { graceMs: GRACE_MS },
				...(s.queue ? { queue: s.queue } : {}),
				...(s.perKey
					? { perKey: { by: "header:x-key", fair: s.perKey.fair, ...(s.perKey.limit === null ? {} : { limit: s.perKey.limit }) } }
					: {}),
				...(s.classes
					? {
							classes: [
								{ name: "critical", headroom: 0, match: { header: { name: "x-class", value: "critical" } }, trusted: true },
								{ name: "bulk", headroom: 0.5 },
							],
						}
					: {}),
			},
		],
	});
	const first = gate(rule(s.shards), { ADMIN_TOKEN: TOKEN });
	const second = s.reshard === null ? first : gate(rule(s.reshard), { ADMIN_TOKEN: TOKEN }, { sameObjectsAs: first });
	const route = first.routeNames()[0] ?? "";
	if (s.override !== null) {
		const put = await first.fetch(`/__gauge/routes/${route}/limit`, {
			method: "PUT",
			headers: { authorization: `Bearer ${TOKEN}` },
			body: JSON.stringify({ limit: s.override }),
		});
		expect(put.status).toBe(200);
	}

	const outcomes = await Promise.all(
		s.requests.map(async (r) => {
			const via: Gate = r.viaSecond ? second : first;
			const client = r.leaveAfter === null ? AbortSignal.timeout(10_000) : AbortSignal.timeout(r.leaveAfter);
			try {
				const headers = { "x-key": r.key, [TAG_HEADER]: r.key, ...(r.critical ? { "x-class": "critical" } : {}) };
				const res = await via.fetch(`/request?delay=${r.delay}`, { headers, signal: client });
				await res.arrayBuffer();
				// A client that left may still be handed an answer here (in-process); what it says is not what it saw.
				return client.aborted ? { left: true, status: res.status } : { left: false, status: res.status, ...levels(res, route) };
			} catch {
				return { left: true, status: 0 };
			}
		}),
	);

	// Every permit comes back, the cut ones after their grace.
	const width = Math.max(s.shards, s.reshard ?? 0);
	const shards = () => Promise.all(Array.from({ length: width }, (_, i) => first.shard("combo", i).status()));
	const keys = () => Promise.all(KEYS.map(async (k) => env.GAUGE.getByName(await keyObjectName(route, k)).status()));
	await eventually(async () => {
		for (const status of [...(await shards()), ...(await keys())]) expect(status.inFlight).toBe(0);
	}, 5_000);
	const routeStatuses = await shards();
	const keyStatuses = s.perKey ? await keys() : [];

	// Nothing given back was reaped: every lease ended by a release.
	for (const status of [...routeStatuses, ...keyStatuses]) expect(status.counters.reaped, "reaped").toBe(0);

	// The origin never ran more than the limit in force, per route and per key (dry-run enforces nothing).
	if (!s.dryRun) {
		expect((await first.origin()).handlersPeak, "origin handlers").toBeLessThanOrEqual(s.override ?? s.limit);
		const perKeyLimit = s.perKey?.limit ?? null;
		if (perKeyLimit !== null)
			for (const k of KEYS) expect((await first.origin(k)).handlersPeak, `key ${k}'s handlers`).toBeLessThanOrEqual(perKeyLimit);
	}

	// Each request counts once per limit it asked: what the responses say, give or take the clients that left.
	const left = outcomes.filter((o) => o.left).length;
	const sum = (statuses: GaugeStatus[], pick: (c: GaugeStatus["counters"]) => number) =>
		statuses.reduce((n, st) => n + pick(st.counters), 0);
	const seen = (level: "key" | "route", outcome: "granted" | "refused") => outcomes.filter((o) => o[level] === outcome).length;
	const within = (what: string, counted: number, observed: number, slack: number) => {
		expect(counted, what).toBeGreaterThanOrEqual(observed);
		expect(counted, what).toBeLessThanOrEqual(observed + slack);
	};
	within(
		"route admissions",
		sum(routeStatuses, (c) => c.admitted),
		seen("route", "granted"),
		left,
	);
	within(
		"key admissions",
		sum(keyStatuses, (c) => c.admitted),
		seen("key", "granted"),
		left,
	);
	// Refusals answered from the isolate's memory that a gauge was full count in no object, but in localRefusals.
	const refusals =
		sum(routeStatuses, (c) => c.refused + c.dryRunRefused) +
		sum(keyStatuses, (c) => c.refused + c.dryRunRefused) +
		isolateCounters(route).localRefusals;
	within("refusals", refusals, seen("route", "refused") + seen("key", "refused"), 2 * left);
	// The origin saw the requests some route shard admitted (none twice, none without a permit), except those
	// whose client left between the grant and the upstream fetch.
	if (!s.dryRun)
		within(
			"admissions the origin saw",
			sum(routeStatuses, (c) => c.admitted),
			(await first.origin()).total,
			left,
		);
}

describe("features in every combination (fast-check, through the gate)", () => {
	it("keeps the limits, gives every permit back, and counts each request once per limit", async () => {
		await fc.assert(fc.asyncProperty(scenario, run), { numRuns: 25, endOnFailure: true });
	}, 180_000);
});
