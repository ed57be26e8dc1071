// Faults end to end with blocks on (permits leased to the isolate in blocks, docs/blocks.md): the fault run of
// faults.test.ts (clients that abort, an origin that errors, hangs and streams slowly, two reloads mid-run that
// lose the isolate's memory and with it its blocks). The origin never sees more than the limit, and every permit
// comes back: a block lost in a reload by its expiry (its admission window + maxHoldMs).
import { afterAll, beforeAll, expect, it } from "vitest";
import { outcomeLabel, request } from "../../dev/client.ts";
import type { LocalGate } from "../../dev/gate.ts";
import { startGate } from "../../dev/gate.ts";
import type { Origin } from "../../dev/origin.ts";
import { startOrigin } from "../../dev/origin.ts";
import type { Kind } from "./fault-clients.ts";
import { mix, send } from "./fault-clients.ts";

const LIMIT = 8;
const ORIGIN_TIMEOUT_MS = 1_000;
const MAX_HOLD_MS = 2_000;
const REQUESTS = 600;
/** Blocks forced on for a small limit (the default would be k = 1 below limit 20). */
const BLOCKS = { max: 4, returnAfterMs: 100 };
/** src/isolate/block-settings.ts: ADMISSION_WINDOW_MS. */
const WINDOW_MS = 1_000;
/** Every client request carries its own deadline (dev/client.ts): a stuck one is a counted outcome. */
const DEADLINE_MS = 5_000;
const CONCURRENCY = 40;

let origin: Origin;
let gate: LocalGate;

beforeAll(async () => {
	origin = await startOrigin();
	gate = await startGate({
		origin: origin.url,
		limits: {
			// Cut exchanges give their permits back at once, so permits turn over (the grace has its own tests).
			routes: [
				{
					name: "faults",
					path: "/*",
					limit: LIMIT,
					originTimeoutMs: ORIGIN_TIMEOUT_MS,
					maxHoldMs: MAX_HOLD_MS,
					blocks: BLOCKS,
					cutRelease: "immediate",
				},
			],
		},
	});
	await request(`${gate.url}/work?delay=0`, { timeoutMs: DEADLINE_MS });
	origin.reset();
});

afterAll(async () => {
	await gate?.close();
	await origin?.close();
});

async function faultRun(withReloads: boolean): Promise<void> {
	const seen = new Map<string, number>();
	let next = 0;
	let reloads = 0;
	const start = Date.now();
	await Promise.all(
		Array.from({ length: CONCURRENCY }, async () => {
			for (let i = next++; i < REQUESTS; i = next++) {
				const kind = mix[(i * 7) % mix.length] as Kind;
				// A reset in the middle of the run: memory gone, requests in flight killed, leases kept.
				if (withReloads && (i === REQUESTS / 3 || i === (2 * REQUESTS) / 3)) {
					reloads++;
					await gate.reload();
				}
				const outcome = outcomeLabel(await send(kind, gate.url, DEADLINE_MS));
				const key = `${kind} ${outcome}`;
				seen.set(key, (seen.get(key) ?? 0) + 1);
			}
		}),
	);
	const loadMs = Date.now() - start;

	// Every path that releases does so promptly; the last request hands the block back after returnAfterMs idle;
	// a block lost in a reload expires by its window + MAX_HOLD_MS.
	const settleStart = Date.now();
	let inFlight = await gate.inFlight("faults");
	while (inFlight > 0 && Date.now() - settleStart < WINDOW_MS + MAX_HOLD_MS + 1_000) {
		await new Promise((r) => setTimeout(r, 50));
		inFlight = await gate.inFlight("faults");
	}
	const settleMs = Date.now() - settleStart;
	const stats = origin.stats();
	console.log(
		`blocks faults e2e: ${REQUESTS} requests in ${loadMs} ms, ${reloads} reloads; in flight back to ${inFlight} after ${settleMs} ms; origin ${JSON.stringify(stats)}\n` +
			[...seen.entries()]
				.sort()
				.map(([k, n]) => `  ${k}: ${n}`)
				.join("\n"),
	);

	expect(stats.peak).toBeLessThanOrEqual(LIMIT);
	expect(stats.peak).toBeGreaterThan(0);
	expect(inFlight).toBe(0);
	// Without a reload no permit may leak: the block was handed back by its last request, not reaped at expiry, and
	// no block permit was taken back at its deadline in the isolate.
	if (!withReloads) expect((await gate.status("faults")).counters.reaped).toBe(0);
	expect(settleMs).toBeLessThanOrEqual(WINDOW_MS + MAX_HOLD_MS + 1_000);
	expect([...seen.values()].reduce((a, b) => a + b)).toBe(REQUESTS);
	// Only requests in flight when the Worker reloaded may die (a network error, or stuck until their deadline).
	const killed = [...seen.entries()]
		.filter(([k]) => k.includes("network-error") || k.includes("client-timeout"))
		.reduce((n, [, c]) => n + c, 0);
	expect(killed).toBeLessThanOrEqual(reloads * CONCURRENCY);
}

it(`blocks on: ${REQUESTS} mixed faulty requests: origin peak <= ${LIMIT}, every permit back`, () => faultRun(false), 120_000);

// With two reloads mid-run (the isolate's memory, and its blocks, lost).
it(
	`blocks on: ${REQUESTS} mixed faulty requests with two reloads: origin peak <= ${LIMIT}, every permit back`,
	() => faultRun(true),
	240_000,
);
