// Cut exchanges end to end: an origin whose handler keeps working after its connection is gone (as the seed's
// Go handler does), clients that hang up and a deadline shorter than the handler. With the route's cutRelease
// grace, the origin never runs more handlers than the limit; "immediate" (nginx's way) is measured beside it.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LocalGate } from "../../dev/gate.ts";
import { startGate } from "../../dev/gate.ts";
import type { Origin } from "../../dev/origin.ts";
import { startOrigin, TAG_HEADER } from "../../dev/origin.ts";

const LIMIT = 3;
const HANDLER_MS = 900;
const ORIGIN_TIMEOUT_MS = 400;
/** Longer than what the handler still runs after the deadline cuts it. */
const GRACE_MS = 800;
/** How long each route is driven (every request also has its own deadline). */
const RUN_MS = 4_000;
const CONCURRENCY = 12;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let origin: Origin;
let gate: LocalGate;

beforeAll(async () => {
	origin = await startOrigin();
	const route = (name: string, cutRelease: unknown) => ({
		name,
		path: `/${name}/*`,
		limit: LIMIT,
		originTimeoutMs: ORIGIN_TIMEOUT_MS,
		cutRelease,
	});
	gate = await startGate({
		origin: origin.url,
		limits: { routes: [route("graced", { graceMs: GRACE_MS }), route("immediate", "immediate")] },
	});
	const warm = await fetch(`${gate.url}/graced/warm?delay=0`, { signal: AbortSignal.timeout(10_000) });
	await warm.arrayBuffer();
	origin.reset();
});

afterAll(async () => {
	await gate?.close();
	await origin?.close();
});

/** Drives one route for RUN_MS: half the clients wait up to 5 s, half hang up after 100 ms. Returns what they saw. */
async function run(route: string): Promise<Map<string, number>> {
	const seen = new Map<string, number>();
	const end = Date.now() + RUN_MS;

	let next = 0;
	await Promise.all(
		Array.from({ length: CONCURRENCY }, async () => {
			for (let i = next++; Date.now() < end; i = next++) {
				const hangUp = i % 2 === 1;
				const deadlineMs = hangUp ? 100 : 5_000;
				const request = fetch(`${gate.url}/${route}/work?delay=${HANDLER_MS}`, {
					headers: { [TAG_HEADER]: route },
					signal: AbortSignal.timeout(deadlineMs),
				})
					.then(async (res) => {
						await res.arrayBuffer();
						return String(res.status);
					})
					.catch((error: Error) => error.name);
				// A request whose abort never settles it (seen with Node's fetch) is counted as stuck, not waited for.
				const outcome = await Promise.race([request, sleep(deadlineMs + 2_000).then(() => "stuck")]);
				seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
				// A refused client waits a little before its next request, as a polite client would.
				if (outcome === "429") await sleep(50);
			}
		}),
	);
	return seen;
}

it(`an origin that ignores cancellation runs at most ${LIMIT} handlers with a cutRelease grace`, async () => {
	const graced = await run("graced");
	const immediate = await run("immediate");
	const stats = { graced: origin.stats("graced"), immediate: origin.stats("immediate") };
	// Every permit comes back (after its grace), and none was reaped as a leak.
	const until = Date.now() + GRACE_MS + ORIGIN_TIMEOUT_MS + 5_000;
	let status = await gate.status("graced");
	while (status.inFlight > 0 && Date.now() < until) {
		await sleep(100);
		status = await gate.status("graced");
	}
	console.log(
		`cut exchanges e2e: graced ${JSON.stringify([...graced])} origin ${JSON.stringify(stats.graced)}; ` +
			`immediate ${JSON.stringify([...immediate])} origin ${JSON.stringify(stats.immediate)}`,
	);

	expect(stats.graced.handlersPeak).toBeLessThanOrEqual(LIMIT);
	expect(stats.graced.total).toBeGreaterThan(LIMIT);
	// Every request ended one way or another (an answer or its own deadline).
	expect([...graced.keys()].every((k) => ["200", "429", "504", "TimeoutError", "stuck"].includes(k))).toBe(true);
	expect(status.inFlight).toBe(0);
	expect(status.counters.reaped).toBe(0);
});
