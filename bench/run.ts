// `npm run bench`: pressure-gauge against a bare pass-through Worker (the same Hono proxy, no gate),
// side by side in one run on the same local runtime, with a loopback origin and autocannon.
// Prints a table and writes bench/RESULTS.md. Loopback only; every phase is bounded in time.
import { execFileSync } from "node:child_process";
import type { EventEmitter } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import autocannon from "autocannon";
import { request } from "../dev/client.ts";
import { startFlood } from "../dev/flood.ts";
import type { LocalGate } from "../dev/gate.ts";
import { startGate } from "../dev/gate.ts";
import { percentile, runLoad } from "../dev/load.ts";
import type { Origin } from "../dev/origin.ts";
import { startOrigin } from "../dev/origin.ts";
import { belowLimit, contention, distance, flood, floodUtilisation } from "./blocks.ts";
import { classesScenario, fairnessScenario, overloadQueueScenario, retriesScenario } from "./sharing.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/** Turns each server of scenario 1 gets, of ROUND_SECONDS each. */
const ROUNDS = 3;
const ROUND_SECONDS = 3;
/** `npm run bench -- 2 4` runs only those scenarios (and does not rewrite RESULTS.md). */
const ONLY = new Set(process.argv.slice(2).map(Number));
const runs = (n: number): boolean => ONLY.size === 0 || ONLY.has(n);
/** Deadlines of the bench's own requests (warm-ups, the gauge's timed runs); autocannon's have REQUEST_TIMEOUT_S. */
const WARM_UP_TIMEOUT_MS = 10_000;
const PAIRS_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_S = 10;
const warmUp = (url: string) => request(`${url}/warm-up?delay=0`, { timeoutMs: WARM_UP_TIMEOUT_MS });

/**
 * Durable Object storage on disk (as \`wrangler dev\` keeps it) and on a memory-backed filesystem: the
 * same SQLite code, without this machine's fsync. Where the two differ, the disk is what costs.
 */
const STATE = { disk: tmpdir(), tmpfs: existsSync("/dev/shm") ? "/dev/shm" : tmpdir() } as const;

interface Measured {
	requests: number;
	perSecond: number;
	/** Latencies in ms by status. */
	latencies: Map<number, number[]>;
	errors: number;
}

/** Closed-loop load from autocannon, recording each response's status and latency. */
async function load(url: string, connections: number, seconds = SECONDS): Promise<Measured> {
	const latencies = new Map<number, number[]>();
	// Without a callback autocannon returns its event emitter, made thenable.
	const instance = autocannon({
		url,
		connections,
		duration: seconds,
		pipelining: 1,
		timeout: REQUEST_TIMEOUT_S,
	}) as unknown as EventEmitter & Promise<autocannon.Result>;
	instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
		const list = latencies.get(status) ?? [];
		list.push(ms);
		latencies.set(status, list);
	});
	const result = await instance;
	const requests = [...latencies.values()].reduce((n, l) => n + l.length, 0);
	// Requests past the deadline are client-timeouts, counted apart from the answered ones, never waited for.
	if (result.timeouts > 0 || result.errors > result.timeouts) {
		console.warn(`  ${url}: ${result.timeouts} client-timeout (${REQUEST_TIMEOUT_S} s), ${result.errors - result.timeouts} other errors`);
	}
	return { requests, perSecond: requests / seconds, latencies, errors: result.errors };
}

const count = (m: Measured, status: number): number => m.latencies.get(status)?.length ?? 0;
const p = (m: Measured, status: number, q: number): number => percentile(m.latencies.get(status) ?? [], q);
const all = (m: Measured): number[] => [...m.latencies.values()].flat();
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

/** Samples the origin's concurrency every few ms while `during` runs; returns the mean and the peak. */
async function sampleOrigin<T>(origin: Origin, during: Promise<T>): Promise<{ result: T; mean: number; peak: number }> {
	const samples: number[] = [];
	const timer = setInterval(() => samples.push(origin.stats().inFlight), 5);
	const result = await during;
	clearInterval(timer);
	// Drop the ramp-up and the drain: the first and last 5% of samples.
	const cut = Math.floor(samples.length * 0.05);
	const steady = samples.slice(cut, samples.length - cut);
	return { result, mean: mean(steady), peak: origin.stats().peak };
}

async function withGate<T>(options: Parameters<typeof startGate>[0], use: (gate: LocalGate) => Promise<T>): Promise<T> {
	const gate = await startGate(options);
	try {
		await warmUp(gate.url);
		return await use(gate);
	} finally {
		await gate.close();
	}
}

function machine(): string {
	const cpu = cpus();
	const workerd = JSON.parse(readFileSync("node_modules/workerd/package.json", "utf8")).version;
	const wrangler = JSON.parse(readFileSync("node_modules/wrangler/package.json", "utf8")).version;
	return `${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; workerd ${workerd}; wrangler ${wrangler}`;
}

async function main(): Promise<void> {
	const rows: string[][] = [];
	const notes: string[] = [];
	// Answers with a Content-Length, as most origins do for a body they have whole (Go, nginx).
	const origin = await startOrigin({ contentLength: true });
	const route = (limit: number, extra: Record<string, unknown> = {}) => ({ routes: [{ name: "bench", path: "/*", limit, ...extra }] });

	// 1. Below the limit: what the gate costs over the bare proxy. (The bare rate is also scenario 2's yardstick.)
	// The three servers stay up and are measured in turns, ROUNDS times, so drift on this shared machine
	// falls on all of them alike; each figure is the mean of its rounds.
	let bareRate = Number.NaN;
	if (runs(1) || runs(2)) {
		console.log(`1/10 below the limit: bare vs gate, fast origin, 20 connections, ${ROUNDS} rounds`);
		const servers = {
			bare: await startGate({ configPath: "bench/bare/wrangler.toml", origin: origin.url }),
			"gate, state on disk": await startGate({ origin: origin.url, limits: route(10_000), stateDir: STATE.disk }),
			"gate, state on tmpfs": await startGate({ origin: origin.url, limits: route(10_000), stateDir: STATE.tmpfs }),
		};
		const measured = new Map<string, Measured[]>();
		try {
			for (const server of Object.values(servers)) await warmUp(server.url);
			for (let round = 0; round < ROUNDS; round++) {
				for (const [name, server] of Object.entries(servers)) {
					const m = await load(`${server.url}/fast?delay=0`, 20, ROUND_SECONDS);
					measured.set(name, [...(measured.get(name) ?? []), m]);
				}
			}
		} finally {
			await Promise.all(Object.values(servers).map((server) => server.close()));
		}
		const rate = (name: string): number => mean((measured.get(name) ?? []).map((m) => m.perSecond));
		const lat = (name: string, q: number): number => percentile((measured.get(name) ?? []).flatMap(all), q);
		const spread = (name: string): string => (measured.get(name) ?? []).map((m) => fmt(m.perSecond)).join(" / ");
		bareRate = rate("bare");
		rows.push([
			"1. below the limit",
			"bare proxy",
			`${fmt(bareRate)} req/s (rounds: ${spread("bare")})`,
			`p50 ${fmt(lat("bare", 50))} ms, p99 ${fmt(lat("bare", 99))} ms`,
		]);
		for (const name of ["gate, state on disk", "gate, state on tmpfs"]) {
			rows.push([
				"",
				`${name} (limit 10 000)`,
				`${fmt(rate(name))} req/s (rounds: ${spread(name)})`,
				`**gate/bare throughput ${fmt(rate(name) / bareRate, 2)}** (target ≥ 0.85); p50 ${fmt(lat(name, 50))} ms, p99 ${fmt(lat(name, 99))} ms; added p50 ${fmt(lat(name, 50) - lat("bare", 50), 1)} ms, p99 ${fmt(lat(name, 99) - lat("bare", 99), 1)} ms`,
			]);
		}
	}

	// 2. A flood at 10× the limit, slow origin: the refusal path, DO calls per refusal, utilisation.
	const floods: [number, keyof typeof STATE][] = [
		[1, "disk"],
		[1, "tmpfs"],
		[2, "tmpfs"],
	];
	for (const [shards, state] of runs(2) ? floods : []) {
		console.log(`2/10 flood: limit 10, 100 connections, 200 ms origin, shards ${shards}, state on ${state}`);
		origin.reset();
		const flood = await withGate({ origin: origin.url, limits: route(10, { shards }), stateDir: STATE[state] }, async (g) => {
			const sampled = await sampleOrigin(origin, load(`${g.url}/slow?delay=200`, 100));
			const status = await g.status("bench");
			return { ...sampled, status };
		});
		const m = flood.result;
		const refusedPerSecond = count(m, 429) / SECONDS;
		const doRefusals = flood.status.counters.refused ?? 0;
		rows.push([
			shards === 1 && state === "disk" ? "2. flood, 10× the limit" : "",
			`gate, limit 10, ${shards} shard${shards > 1 ? "s" : ""}, state on ${state}`,
			`${fmt(refusedPerSecond)} refusals/s, ${fmt(count(m, 200) / SECONDS)} admitted/s`,
			`refusal p50 ${fmt(p(m, 429, 50), 1)} ms, p99 ${fmt(p(m, 429, 99), 1)} ms; **refused/s ÷ bare proxied/s ${fmt(refusedPerSecond / bareRate, 2)}** (target ≥ 1.5); ` +
				`**DO calls per refusal ${fmt(doRefusals / Math.max(1, count(m, 429)), 3)}** (target ≤ 0.1); ` +
				`**utilisation ${fmt((100 * flood.mean) / 10, 1)} %** (target ≥ 90 %); permits held ${fmt(flood.status.holds.sumMs / Math.max(1, flood.status.holds.count))} ms on average for 200 ms of origin work; origin peak ${flood.peak} (limit 10)`,
		]);
		if (flood.peak > 10) notes.push(`flood with ${shards} shard(s): the origin saw ${flood.peak} at once, above the limit of 10`);
	}

	// 3. The seed's experiment: limit 10, a 2 s origin, 200 requests 50 at a time (hey's defaults).
	if (runs(3)) await seedExperiment(origin, route, rows);

	// 4. The gauge object alone.
	if (runs(4)) await gaugeAlone(rows);

	// 5-9. Blocks (bench/blocks.ts): below the limit, at a distance, in a flood, two isolates, flood utilisation.
	if (runs(5)) await belowLimit(origin, load, rows);
	if (runs(6)) await distance(origin, load, rows);
	if (runs(7)) await flood(rows);
	if (runs(8)) await contention(rows);
	if (runs(9)) await floodUtilisation(rows);
	await origin.close();

	// 10. An adaptive limit against fixed ones, on an origin with a capacity.
	if (runs(10)) await adaptiveVersusFixed(rows);

	// 11. The library's Hono middleware around a trivial handler, against the same handler without it.
	if (runs(11)) await middlewareVersusHandler(rows);

	// 12-15. Issue 21 (bench/sharing.ts): classes, fair shares, the adaptive queue, Retry-After spreading.
	if (runs(12)) await classesScenario(rows);
	if (runs(13)) await fairnessScenario(rows);
	if (runs(14)) await overloadQueueScenario(rows, Number(process.env.BENCH_QUEUE_SECONDS ?? 15));
	if (runs(15)) await retriesScenario(rows);

	const table = [
		"| scenario | setup | result | ratios and details |",
		"|---|---|---|---|",
		...rows.map((r) => `| ${r.join(" | ")} |`),
	].join("\n");
	console.log(`\n${table}`);
	if (ONLY.size > 0) return;
	const report = `# Benchmark results

Made by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}.

Machine: ${machine()}.

Everything runs on this machine: the loopback origin (dev/origin.ts), wrangler's local runtime (workerd, as
\`wrangler dev\`) serving the gate or the bare baseline, and autocannon, ${SECONDS} s per phase. Absolute numbers are
this machine's; the ratios compare the gate with the bare Worker in the same run.

How to read it:
- Every process shares the machine's two cores: autocannon, the origin, and the two workerd processes of
  wrangler's local runtime (its entry proxy and the Worker with its Durable Objects). The bare Worker's
  rate is the local runtime's ceiling for a proxied request, not Cloudflare's.
- "state on disk" is where \`wrangler dev\` keeps Durable Object storage; "state on tmpfs" is the same SQLite
  code with its files in memory. The difference is this machine's fsync: each acquire and release is a
  durable write, and the object's reply waits for it.
- The origin answers with a Content-Length, as Go and nginx do for a body they have whole (the gate then reads a
  small body whole with the runtime's own code before releasing; a chunked body streams through a JavaScript
  hold, which costs more: bench/perf/).
- Scenario 1 runs the default config (limit 10 000: blocks of up to 1 000, so most admissions make no object
  call). Without blocks (\`blocks = "off"\`, scenario 5's last row), every admitted request makes two Durable
  Object calls (acquire, release) that the bare proxy does not; scenario 4's no-op calls show what a call costs.
- In a flood, a permit is held from the grant to the release; under this load the Worker's own queueing
  adds to the origin's 200 ms ("permits held"), and utilisation is origin work over hold time. The
  origin's peak never passes the limit.
- Scenarios 5-9 (issue 10, blocks): bench/far/ is the gate with its Durable Object calls counted (and, for
  scenario 6, delayed by 100 ms, as a far data centre would); bench/refuse/ a Worker that only answers 429, the
  local ceiling of a refusal. Scenarios 7, 8 and 9 run the origin in a process of its own and \`hey\` as the load
  (with autocannon, the flood's own load shared the origin's event loop and delayed its answers); scenario 7
  runs two rounds, its servers taking turns; 8 runs two gate
  Workers, each its own isolate, on one Durable Object (dev/two-gates.ts, Miniflare). Scenario 9 also measures an
  ideal gate (bench/ideal/: a counter in one isolate's memory, no object, no headers): what any gate can reach on
  this machine under the same flood. Utilisation is the origin's own time-averaged concurrency over the limit.
- Scenario 10 (issue 11) puts an adaptive limit beside a fixed limit of C and one of 10 C on an origin with C
  workers (dev/capacity.ts), with clients that retry a 429 at once and clients that honour Retry-After. A fixed
  limit of C keeps fewer than C requests at the origin (a permit is held longer than the origin works); 10 C keeps
  the origin's queue long (p50 ≈ 5 D); the adaptive limit learns from the origin's own concurrency and latency and
  settles above C with a short queue. Clients that retry a 429 at once turn the run into a refusal flood that one
  local workerd process has to answer, and the Worker's own queueing adds to what it measures as origin latency.
  State on tmpfs.
- Scenarios 12-15 (issue 21, bench/sharing.ts): priority classes, max-min fair shares, the adaptive queue (LIFO +
  CoDel) and Retry-After spreading, each beside its baseline (no classes; no perKey and a fixed per-key limit; the
  FIFO queue; clients retrying after a fixed 1 s). The origin runs in its own process, \`hey\` is the load (15: a
  Node client that reads Retry-After).

${table}
${notes.length ? `\nNotes:\n${notes.map((n) => `- ${n}`).join("\n")}\n` : ""}`;
	writeFileSync("bench/RESULTS.md", report);
	// In the project's format (biome pads markdown tables), so `npm run lint` passes on the file as written.
	execFileSync("node_modules/.bin/biome", ["format", "--write", "bench/RESULTS.md"], { stdio: "ignore" });
	console.log("\nwritten to bench/RESULTS.md");
}

type RouteLimits = (limit: number, extra?: Record<string, unknown>) => unknown;

/**
 * Issue 20: gauge({ limit: 10 000 }) in front of a handler that answers at once, against the same handler in the
 * same Worker without it, measured in turns (ROUNDS) so drift falls on both alike. Target: ≥ 0.9.
 */
async function middlewareVersusHandler(rows: string[][]): Promise<void> {
	console.log(`11/11 the Hono middleware around a trivial handler vs the handler alone, 20 connections, ${ROUNDS} rounds`);
	const worker = await startGate({ configPath: "bench/hono/wrangler.toml", stateDir: STATE.tmpfs });
	const measured = { plain: [] as Measured[], gated: [] as Measured[] };
	try {
		await warmUp(worker.url);
		await request(`${worker.url}/gated`, { timeoutMs: WARM_UP_TIMEOUT_MS });
		for (let round = 0; round < ROUNDS; round++) {
			for (const path of ["plain", "gated"] as const) measured[path].push(await load(`${worker.url}/${path}`, 20, ROUND_SECONDS));
		}
	} finally {
		await worker.close();
	}
	const rate = (path: "plain" | "gated"): number => mean(measured[path].map((m) => m.perSecond));
	const lat = (path: "plain" | "gated", q: number): number => percentile(measured[path].flatMap(all), q);
	const spread = (path: "plain" | "gated"): string => measured[path].map((m) => fmt(m.perSecond)).join(" / ");
	const refused = measured.gated.reduce((n, m) => n + m.requests - count(m, 200), 0);
	rows.push([
		"11. the Hono middleware",
		"handler alone",
		`${fmt(rate("plain"))} req/s (rounds: ${spread("plain")})`,
		`p50 ${fmt(lat("plain", 50))} ms, p99 ${fmt(lat("plain", 99))} ms`,
	]);
	rows.push([
		"",
		"gauge({ limit: 10 000 }) + the same handler",
		`${fmt(rate("gated"))} req/s (rounds: ${spread("gated")})`,
		`**middleware/handler throughput ${fmt(rate("gated") / rate("plain"), 2)}** (target ≥ 0.9); p50 ${fmt(lat("gated", 50))} ms, p99 ${fmt(lat("gated", 99))} ms; non-200 answers ${refused}`,
	]);
}

async function seedExperiment(origin: Origin, route: RouteLimits, rows: string[][]): Promise<void> {
	console.log("3/10 the seed's experiment");
	origin.reset();
	const seed = await withGate({ origin: origin.url, limits: route(10) }, async (g) => {
		await runLoad({ url: `${g.url}/warm-up?delay=0`, requests: 50, concurrency: 50 });
		origin.reset();
		return runLoad({ url: `${g.url}/request?delay=2000`, requests: 200, concurrency: 50 });
	});
	if (seed.problems.length > 0) console.warn(`  unanswered: ${JSON.stringify(seed.unanswered)}\n  ${seed.problems.join("\n  ")}`);
	rows.push([
		"3. the seed's experiment",
		"gate, limit 10, 2 s origin",
		`${seed.statuses[200] ?? 0} × 200, ${seed.statuses[429] ?? 0} × 429`,
		`in ${fmt(seed.elapsedMs / 1000, 2)} s (the seed's Go server: 8.01 s); origin peak ${origin.stats().peak}; refusal p50 ${fmt(percentile(seed.latencies[429] ?? [], 50), 1)} ms`,
	]);
}

/** Scenario 5's origin: C workers of D ms, the rest waiting inside it (dev/capacity.ts). */
const CAPACITY = { workers: 10, workMs: 100 } as const;
const ADAPTIVE_SECONDS = Number(process.env.BENCH_ADAPTIVE_SECONDS ?? 15);
/** Measured after this long, so the adaptive limit has converged (it does within 5 s, test/e2e/adaptive.test.ts). */
const SETTLE_SECONDS = 5;

/**
 * Issue 11: an adaptive limit against a fixed limit set right (C) and one set too high (10 C), 50 clients as fast as
 * they can, once retrying a 429 at once and once honouring its Retry-After. State on tmpfs, as in the e2e run (on
 * this machine's disk each admission waits ~90 ms for fsyncs, which only the adaptive limit would make up for).
 */
async function adaptiveVersusFixed(rows: string[][]): Promise<void> {
	const { workers: C, workMs: D } = CAPACITY;
	const limits: [string, Record<string, unknown>][] = [
		["adaptive { max = 100 }", { adaptive: { max: 100 } }],
		[`fixed ${C} (= C)`, { limit: C }],
		[`fixed ${10 * C} (10 C)`, { limit: 10 * C }],
	];
	const clients: [string, number][] = [
		["retry a 429 at once", 0],
		["honour Retry-After", 2_000],
	];
	for (const [kind, maxRetryAfterMs] of clients) {
		for (const [name, limit] of limits) {
			console.log(`10/10 capacity origin (C ${C}, D ${D} ms), 50 clients that ${kind}: ${name}`);
			const origin = await startOrigin({ capacity: { ...CAPACITY } });
			const gate = await startGate({
				origin: origin.url,
				stateDir: STATE.tmpfs,
				limits: { routes: [{ name: "bench", path: "/*", originTimeoutMs: 5_000, ...limit }] },
			});
			try {
				await (await fetch(`${gate.url}/warm-up`, { signal: AbortSignal.timeout(5_000) })).arrayBuffer();
				const flood = startFlood({ url: `${gate.url}/work`, clients: 50, timeoutMs: 5_000, maxRetryAfterMs });
				const inside: number[] = [];
				const timer = setInterval(() => {
					if (flood.now() >= SETTLE_SECONDS * 1000) inside.push(origin.stats().inFlight);
				}, 20);
				await new Promise((r) => setTimeout(r, ADAPTIVE_SECONDS * 1000));
				clearInterval(timer);
				await flood.stop();
				const status = await gate.status("bench");
				const measured = flood.done.filter((d) => d.t >= SETTLE_SECONDS * 1000);
				const seconds = ADAPTIVE_SECONDS - SETTLE_SECONDS;
				const ok = measured.filter((d) => d.status === 200).map((d) => d.ms);
				const refused = measured.filter((d) => d.status === 429).length;
				rows.push([
					rows.some((r) => r[0]?.startsWith("10.")) ? "" : "10. adaptive vs fixed, capacity origin",
					`${name}; clients ${kind}`,
					`${fmt(ok.length / seconds)} admitted/s (**${fmt((100 * ok.length) / seconds / ((C * 1000) / D))} % of C / D**), ${fmt(refused / seconds)} refused/s`,
					`admitted p50 ${fmt(percentile(ok, 50))} ms, p99 ${fmt(percentile(ok, 99))} ms; origin concurrency ${fmt(mean(inside), 1)} on average; limit at the end ${status.limit.effective}`,
				]);
			} finally {
				await gate.close();
				await origin.close();
			}
		}
	}
}

async function gaugeAlone(rows: string[][]): Promise<void> {
	console.log("4/10 the gauge object alone");
	for (const [state, dir] of Object.entries(STATE)) {
		await withGate({ configPath: "bench/gauge/wrangler.toml", stateDir: dir }, async (g) => {
			for (const concurrency of [1, 16]) {
				const results: Record<string, number> = {};
				for (const kind of ["noop", "memory", "durable"]) {
					const pairs = (n: number) =>
						request(`${g.url}/pairs?kind=${kind}&n=${n}&concurrency=${concurrency}`, { timeoutMs: PAIRS_TIMEOUT_MS });
					await pairs(200); // warm-up
					const res = JSON.parse((await pairs(3000)).text) as { pairsPerSecond: number };
					results[kind] = res.pairsPerSecond;
				}
				rows.push([
					concurrency === 1 && state === "disk" ? "4. the gauge object alone" : "",
					`${concurrency} caller${concurrency > 1 ? "s" : ""} at once, state on ${state}`,
					`${fmt(results.durable ?? 0)} pairs/s durable`,
					`in memory ${fmt(results.memory ?? 0)} pairs/s, no-op calls ${fmt(results.noop ?? 0)} pairs/s; **durable/memory ${fmt((results.durable ?? 0) / (results.memory ?? 1), 2)}** (target ≥ 1 000 durable pairs/s)`,
				]);
			}
		});
	}
}

await main();
