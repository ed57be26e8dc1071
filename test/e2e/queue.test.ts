// The wait queue end to end: the origin's peak stays at the limit, and nobody waits past the deadline.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LocalGate } from "../../dev/gate.ts";
import { startGate } from "../../dev/gate.ts";
import { percentile, runLoad } from "../../dev/load.ts";
import type { Origin } from "../../dev/origin.ts";
import { startOrigin } from "../../dev/origin.ts";

const LIMIT = 5;
const ORIGIN_DELAY_MS = 200;
const MAX_WAIT_MS = 1_500;

let origin: Origin;
let gate: LocalGate;

beforeAll(async () => {
	origin = await startOrigin({ delayMs: ORIGIN_DELAY_MS });
	gate = await startGate({
		origin: origin.url,
		limits: { routes: [{ name: "queued", path: "/*", limit: LIMIT, queue: { size: 100, maxWaitMs: MAX_WAIT_MS } }] },
	});
	const warm = await runLoad({ url: `${gate.url}/warm-up?delay=0`, requests: 30, concurrency: 30 });
	expect(warm.problems, "warm-up requests without an answer").toEqual([]);
	origin.reset();
});

afterAll(async () => {
	await gate?.close();
	await origin?.close();
});

it(`limit ${LIMIT} with a queue: origin peak ${LIMIT}, every admitted request served within the wait deadline`, async () => {
	// 45 clients on 5 permits of 200 ms: the queue runs ~1.8 s deep, so some waiters reach the 1.5 s deadline.
	const result = await runLoad({ url: `${gate.url}/work`, requests: 135, concurrency: 45 });
	const admitted = result.latencies[200] ?? [];
	const refused = result.latencies[429] ?? [];
	const stats = origin.stats();
	console.log(
		`queue e2e: ${JSON.stringify(result.statuses)} in ${Math.round(result.elapsedMs)} ms; admitted p50 ${Math.round(percentile(admitted, 50))} ms, ` +
			`max ${Math.round(Math.max(...admitted))} ms; refused min ${Math.round(Math.min(...refused))} ms; origin ${JSON.stringify(stats)}`,
	);

	expect(result.problems, "requests without an answer").toEqual([]);
	expect(stats.peak).toBe(LIMIT);
	expect(stats.total).toBe(admitted.length);
	expect(admitted.length).toBeGreaterThan(LIMIT);
	expect(refused.length).toBeGreaterThan(0);
	expect(admitted.length + refused.length).toBe(135);
	// Waiting is bounded by the deadline: wait + service, plus the local runtime's own latency.
	expect(Math.max(...admitted)).toBeLessThanOrEqual(MAX_WAIT_MS + ORIGIN_DELAY_MS + 1_000);
	// A refused waiter was refused at its deadline, not before.
	for (const ms of refused) expect(ms).toBeGreaterThanOrEqual(MAX_WAIT_MS - 50);
	expect((await gate.status("queued")).inFlight).toBe(0);
});
