// Faults end to end: a mixed run of clients that abort, an origin that errors, hangs and streams slowly,
// and two reloads mid-run (as a deploy: isolates and Durable Objects restart, the requests they served die).
// The origin never sees more than the limit; every permit of a request that ended is released, and only
// the leases of requests killed by a reload are left for the reaper.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Outcome } from "../../dev/client.ts";
import { describeOutcome, request } from "../../dev/client.ts";
import type { LocalGate, RouteStatus } from "../../dev/gate.ts";
import { RELOAD_TIMEOUT_MS, STATUS_TIMEOUT_MS, startGate } from "../../dev/gate.ts";
import type { Origin } from "../../dev/origin.ts";
import { startOrigin } from "../../dev/origin.ts";
import type { Kind } from "./fault-clients.ts";
import { mix, send } from "./fault-clients.ts";
import type { Generation } from "./lease-ledger.ts";
import { carriedIn, describeGeneration, reapedOwn, unreleased } from "./lease-ledger.ts";

const LIMIT = 8;
const ORIGIN_TIMEOUT_MS = 1_000;
const MAX_HOLD_MS = 2_000;
const REQUESTS = 1_200;
const CONCURRENCY = 40;
/** Each client's deadline, body included. The gate answers within ORIGIN_TIMEOUT_MS plus the runtime's latency. */
const REQUEST_TIMEOUT_MS = 10_000;
/** The load's budget: requests still out then end as client-timeouts, none is sent after. */
const RUN_BUDGET_MS = 60_000;
/**
 * After the load, how soon every lease granted since the last reload must be released. The slowest release
 * is a request whose client left early: the gate cuts it at ORIGIN_TIMEOUT_MS. Well below MAX_HOLD_MS, and
 * the check reads released and admitted counts, so a lease reaped meanwhile still counts as unreleased.
 */
const SETTLE_MS = ORIGIN_TIMEOUT_MS + 500;

/**
 * Above everything this test waits for, each with its own deadline and message (the run's budget, a reload
 * begun at its end, the status reads, the settle waits), so a stuck step never ends in a bare test timeout.
 */
const TEST_TIMEOUT_MS = RUN_BUDGET_MS + RELOAD_TIMEOUT_MS + 6 * STATUS_TIMEOUT_MS + SETTLE_MS + MAX_HOLD_MS + 10_000;

interface Sent {
	readonly i: number;
	readonly kind: Kind;
	readonly start: number;
	readonly end: number;
	readonly outcome: Outcome<number>;
}

interface Reload {
	readonly start: number;
	readonly end: number;
	/** Client requests out when the reload began. */
	readonly clientsInFlight: number;
	/** The route's status just before the reload and just after it. */
	readonly before: RouteStatus;
	readonly after: RouteStatus;
}

let origin: Origin;
let gate: LocalGate;

beforeAll(async () => {
	origin = await startOrigin();
	gate = await startGate({
		origin: origin.url,
		// cutRelease "immediate": every cut exchange gives its permit back at the cut, so permits turn over and each
		// generation between reloads admits enough to be told apart (a grace would keep the route full of cut
		// exchanges; test/e2e/cut-exchanges.test.ts covers the grace).
		limits: {
			routes: [
				{
					name: "faults",
					path: "/*",
					limit: LIMIT,
					originTimeoutMs: ORIGIN_TIMEOUT_MS,
					maxHoldMs: MAX_HOLD_MS,
					cutRelease: "immediate",
				},
			],
		},
	});
	await request(`${gate.url}/work?delay=0`, { timeoutMs: REQUEST_TIMEOUT_MS });
	origin.reset();
});

afterAll(async () => {
	await gate?.close();
	await origin?.close();
});

it(
	`${REQUESTS} mixed faulty requests, 2 reloads: origin peak <= ${LIMIT}, no client stuck, only killed requests' leases reaped`,
	async () => {
		const first = await gate.status("faults");
		const sent: Sent[] = [];
		const reloads: Reload[] = [];
		const out = new Set<number>();
		let notSent = 0;
		let next = 0;
		const start = Date.now();
		const until = start + RUN_BUDGET_MS;
		await Promise.all(
			Array.from({ length: CONCURRENCY }, async () => {
				for (let i = next++; i < REQUESTS; i = next++) {
					if (Date.now() >= until) {
						notSent++;
						continue;
					}
					// A deploy in the middle of the run: memory gone, requests in flight killed, leases kept.
					if (i === REQUESTS / 3 || i === (2 * REQUESTS) / 3) {
						const before = await gate.status("faults");
						const reloadStart = Date.now();
						const clientsInFlight = out.size;
						await gate.reload();
						const reloadEnd = Date.now();
						reloads.push({ start: reloadStart, end: reloadEnd, clientsInFlight, before, after: await gate.status("faults") });
					}
					const kind = mix[(i * 7) % mix.length] as Kind;
					out.add(i);
					const sentAt = Date.now();
					const outcome = await send(kind, gate.url, REQUEST_TIMEOUT_MS, until);
					out.delete(i);
					sent.push({ i, kind, start: sentAt, end: Date.now(), outcome });
				}
			}),
		);
		const loadEnd = Date.now();

		// Every lease admitted since the last reload is released soon after the load: reaped ones count as unreleased.
		let settled = await gate.status("faults");
		while (unreleased(settled) > 0 && Date.now() - loadEnd < SETTLE_MS) {
			await new Promise((r) => setTimeout(r, 50));
			settled = await gate.status("faults");
		}
		const settleMs = Date.now() - loadEnd;
		// Then the leases the last reload orphaned expire (MAX_HOLD_MS after their grant, before the reload ended).
		const lastReloadEnd = reloads.at(-1)?.end ?? start;
		await new Promise((r) => setTimeout(r, Math.max(0, lastReloadEnd + MAX_HOLD_MS + 200 - Date.now())));
		let last = await gate.status("faults");
		while (last.inFlight > 0 && Date.now() - lastReloadEnd < MAX_HOLD_MS + 2_000) {
			await new Promise((r) => setTimeout(r, 50));
			last = await gate.status("faults");
		}

		const generations: Generation[] = [first, ...reloads.map((r) => r.after)].map((g, n) => ({
			first: g,
			last: reloads[n]?.before ?? last,
		}));
		const duringReload = (s: Sent): boolean => reloads.some((r) => s.start <= r.end && s.end >= r.start);
		const label = (o: Outcome<number>): string => (o.kind === "answered" ? String(o.status) : o.kind);
		const byKind = new Map<string, number>();
		for (const s of sent) byKind.set(`${s.kind} ${label(s.outcome)}`, (byKind.get(`${s.kind} ${label(s.outcome)}`) ?? 0) + 1);
		const failed = sent.filter((s) => s.outcome.kind === "client-timeout" || s.outcome.kind === "network-error");
		const stuck = failed.filter((s) => !duringReload(s)).map((s) => `request ${s.i} (${s.kind}): ${describeOutcome(s.outcome)}`);
		if (notSent > 0) stuck.push(`${notSent} requests not sent: the run's ${RUN_BUDGET_MS / 1000} s budget was spent`);
		const stats = origin.stats();
		console.log(
			`faults e2e: ${sent.length} requests in ${loadEnd - start} ms; origin ${JSON.stringify(stats)}\n` +
				reloads
					.map((r, n) => `  reload ${n + 1} at ${r.start - start} ms, took ${r.end - r.start} ms, ${r.clientsInFlight} clients in flight`)
					.join("\n") +
				`\n${generations.map((g, n) => `  ${describeGeneration(n + 1, g)}`).join("\n")}` +
				`\n  unreleased since the last reload ${unreleased(settled)} after ${settleMs} ms; in flight ${last.inFlight} once the orphans expired` +
				`\n${[...byKind.entries()]
					.sort()
					.map(([k, n]) => `  ${k}: ${n}`)
					.join("\n")}`,
		);

		expect(stats.peak).toBeLessThanOrEqual(LIMIT);
		expect(stats.peak).toBeGreaterThan(0);
		// No client is stuck: outside a reload, every request is answered or given up by its own client.
		expect(stuck, "requests without an answer outside a reload").toEqual([]);
		expect(sent.length).toBe(REQUESTS);
		// Only requests in flight when the Worker reloaded may die (the proxy in front of it retries most of them).
		expect(failed.length).toBeLessThanOrEqual(reloads.length * CONCURRENCY);

		expect(reloads).toHaveLength(2);
		for (const [n, r] of reloads.entries()) {
			// The reload restarted the object (its counters begin again), or the per-generation accounting is void.
			expect(r.after.countersSince, `reload ${n + 1} restarted the Durable Object`).toBeGreaterThan(r.before.countersSince);
			// What a reload leaves live: the leases of requests it killed (and older orphans not yet expired), counted
			// against the limit like any lease.
			expect(carriedIn(r.after), `leases live across reload ${n + 1}`).toBeLessThanOrEqual(LIMIT);
		}
		// Nothing a generation admitted was reaped in it: every path that ends a request released its permit.
		// (Exact for the first generation, which inherits nothing, and the last, read after its inheritance expired.)
		for (const [n, g] of generations.entries()) expect(reapedOwn(g), `leases reaped in generation ${n + 1} that it had admitted`).toBe(0);
		expect(carriedIn(first), "leases held before the run").toBe(0);
		expect(unreleased(settled), `leases admitted since the last reload and not released ${settleMs} ms after the load`).toBe(0);
		// The leases the last reload orphaned were reaped, and nothing else: the backstop works, and only for them.
		expect(last.inFlight, "leases still live once every orphan expired").toBe(0);
		expect(last.counters.reaped, "leases reaped after the last reload").toBe(carriedIn(reloads[1]?.after ?? first));
		expect(unreleased(last)).toBe(0);
	},
	TEST_TIMEOUT_MS,
);
