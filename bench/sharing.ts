// Benchmark scenarios for issue 21 (docs/classes-and-fair-shares.md), run by bench/run.ts as scenarios 12-15:
// priority classes, max-min fair shares, the adaptive queue and Retry-After spreading, each beside its baseline in
// the same run. Origin 200 ms (2 s for 15) in a process of its own, `hey` as the load (a Node client for 15, which
// has to read Retry-After), loopback only; every phase is bounded in time.

import { execFile } from "node:child_process";
import { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { LocalGate, LocalGateOptions } from "../dev/gate.ts";
import { startGate } from "../dev/gate.ts";
import { percentile } from "../dev/load.ts";
import type { OriginStats } from "../dev/origin.ts";
import { originProcess, quiet } from "./blocks.ts";

const ORIGIN_MS = 200;
const LIMIT = 20;
/** Requests per second the origin can serve at the limit. */
const CAPACITY = LIMIT / (ORIGIN_MS / 1000);

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const route = (limit: number, extra: Record<string, unknown> = {}) => ({ routes: [{ name: "bench", path: "/*", limit, ...extra }] });

type OriginProcess = Awaited<ReturnType<typeof originProcess>>;

/** One request as `hey -o csv` reports it: status, latency and start (ms since hey started). */
interface Sent {
	status: number;
	ms: number;
	at: number;
}

/** Runs `hey` with extra arguments (headers, a rate) and returns every request's status, latency and start offset. */
function heyCsv(url: string, connections: number, seconds: number, extra: string[] = []): Promise<Sent[]> {
	return new Promise((resolve, reject) => {
		const args = ["-z", `${seconds}s`, "-c", String(connections), "-t", "10", "-o", "csv", ...extra, url];
		execFile("hey", args, { maxBuffer: 256 * 2 ** 20, timeout: (seconds + 30) * 1000 }, (error, stdout) => {
			if (error) return reject(new Error(`hey ${args.join(" ")}: ${error.message} (install it with apt-get install hey)`));
			const sent: Sent[] = [];
			for (const line of stdout.split("\n").slice(1)) {
				const cells = line.split(",");
				if (cells.length < 8 || !cells[6]) continue;
				sent.push({ status: Number(cells[6]), ms: Number(cells[0]) * 1000, at: Number(cells[7]) * 1000 });
			}
			resolve(sent);
		});
	});
}

/**
 * An open-loop load: requests arrive at `rate` per second for `seconds`, at Poisson times (exponential gaps), whatever
 * the answers; each has its own 10 s deadline (a request past it counts with status 0). Used where `hey -q` will not
 * do: hey paces each client by a ticker started at the same moment for all, so its clients arrive in step, in bursts.
 */
export async function openLoop(url: string, rate: number, seconds: number): Promise<Sent[]> {
	const start = performance.now();
	const end = start + seconds * 1000;
	const pending: Promise<Sent>[] = [];
	const one = async (at: number): Promise<Sent> => {
		try {
			const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
			await res.arrayBuffer();
			return { status: res.status, ms: performance.now() - start - at, at };
		} catch {
			return { status: 0, ms: performance.now() - start - at, at };
		}
	};
	for (let next = start; next < end; next += (-Math.log(1 - Math.random()) * 1000) / rate) {
		const wait = next - performance.now();
		if (wait > 1) await sleep(wait);
		pending.push(one(next - start));
	}
	return Promise.all(pending);
}

const ok = (sent: readonly Sent[]): Sent[] => sent.filter((s) => s.status === 200);
const share = (part: number, whole: number): string => `${fmt((100 * part) / Math.max(1, whole), 1)} %`;

/** The ideal gate (bench/ideal: a counter in one isolate's memory, first come first served) as the machine's floor. */
const IDEAL = Symbol("ideal gate");

async function gateFor(origin: OriginProcess, options: LocalGateOptions): Promise<LocalGate> {
	const gate = await startGate({ origin: origin.url, ...options });
	await (await fetch(`${gate.url}/warm-up?delay=0`, { signal: AbortSignal.timeout(10_000) })).arrayBuffer();
	return gate;
}

/** Starts a gate, runs `use` on a quiet origin with reset counters, and closes the gate whatever happens. */
async function measure<T>(origin: OriginProcess, limits: unknown, use: (url: string) => Promise<T>): Promise<T & { peak: number }> {
	const options: LocalGateOptions =
		limits === IDEAL
			? { configPath: "bench/ideal/wrangler.toml", vars: { LIMIT: String(LIMIT) } }
			: { configPath: "wrangler.toml", limits };
	return measureOn(origin, options, use);
}

/** As measure, on any server startGate runs (the gate with some LIMITS, or the ideal gate of bench/ideal with its vars). */
async function measureOn<T>(
	origin: OriginProcess,
	options: LocalGateOptions,
	use: (url: string) => Promise<T>,
): Promise<T & { peak: number }> {
	const gate = await gateFor(origin, options);
	try {
		await quiet(() => origin.stats());
		await origin.stats(true);
		const result = await use(gate.url);
		return { ...result, peak: (await origin.stats()).peak };
	} finally {
		await gate.close();
	}
}

/** Samples the origin's in-flight count for one tag, and in all, every 50 ms until `stop` is set; times in ms since `start`. */
async function sampleTag(url: string, tag: string, start: number, stop: { done: boolean }): Promise<[number, number, number][]> {
	const samples: [number, number, number][] = [];
	const inFlight = async (query: string) =>
		((await (await fetch(`${url}/__stats${query}`, { signal: AbortSignal.timeout(5_000) })).json()) as OriginStats).inFlight;
	while (!stop.done) {
		const [mine, all] = await Promise.all([inFlight(`?tag=${tag}`), inFlight("")]);
		samples.push([Date.now() - start, mine, all]);
		await sleep(50);
	}
	return samples;
}
/** The mean of a sample column (1: the tag's, 2: all) between two times. */
const meanBetween = (samples: readonly [number, number, number][], from: number, to: number, column: 1 | 2 = 1): number => {
	const inside = samples.filter(([t]) => t >= from && t < to).map((row) => row[column]);
	return inside.reduce((a, b) => a + b, 0) / Math.max(1, inside.length);
};

/** 12. Classes: critical 10 clients, sheddable 100 clients (headroom 0.5), against the same load with no classes. */
export async function classesScenario(rows: string[][], seconds = 15): Promise<void> {
	console.log(`12/15 classes: limit ${LIMIT}, critical 10 + sheddable 100 clients (hey), ${ORIGIN_MS} ms origin, ${seconds} s`);
	const origin = await originProcess();
	const classes = [
		{ name: "critical", headroom: 0, match: { path: "/critical/*" } },
		{ name: "sheddable", headroom: 0.5 },
	];
	const cap = Math.floor(LIMIT * 0.5);
	try {
		// The machine's floor under the same flood: the ideal gate's admitted requests (its own p99, its throughput).
		let floor: { p99: number; perPermit: number } | null = null;
		for (const [name, limits] of [
			["ideal gate, no classes (the machine's floor)", IDEAL],
			["classes: critical (headroom 0), sheddable (headroom 0.5)", route(LIMIT, { classes })],
			["no classes (baseline)", route(LIMIT)],
		] as const) {
			const r = await measure(origin, limits, async (url) => {
				const [critical, sheddable] = await Promise.all([
					heyCsv(`${url}/critical/x?delay=${ORIGIN_MS}`, 10, seconds),
					heyCsv(`${url}/bulk/x?delay=${ORIGIN_MS}`, 100, seconds),
				]);
				return { critical, sheddable };
			});
			const criticalOk = ok(r.critical);
			const p99 = percentile(
				criticalOk.map((s) => s.ms),
				99,
			);
			const allowed = (cap * seconds * 1000) / ORIGIN_MS;
			const admitted = [...criticalOk, ...ok(r.sheddable)];
			if (limits === IDEAL) {
				floor = {
					p99: percentile(
						admitted.map((s) => s.ms),
						99,
					),
					perPermit: admitted.length / LIMIT,
				};
			}
			// Against the floor: what this machine delivers per permit under this flood, and an admitted request's p99 there.
			const vsFloor =
				floor && limits !== IDEAL
					? `; against the ideal gate in this run: **critical p99 ÷ its admitted p99 ${fmt(p99 / floor.p99, 2)}** (≤ 1.5), ` +
						`**sheddable admitted ÷ its cap's share of the ideal gate's throughput (${fmt(cap * floor.perPermit)}) ${fmt(ok(r.sheddable).length / (cap * floor.perPermit), 2)}** (≥ 0.8)`
					: "";
			rows.push([
				limits === IDEAL ? `12. classes, limit ${LIMIT}, ${seconds} s` : "",
				name,
				`critical ${criticalOk.length} / ${r.critical.length} admitted, sheddable ${ok(r.sheddable).length} / ${r.sheddable.length}`,
				`**critical success ${share(criticalOk.length, r.critical.length)}** (target ≥ 99 %); **critical p99 ÷ origin ${fmt(p99 / ORIGIN_MS, 2)}** (target ≤ 1.5); ` +
					`**sheddable admitted ÷ its cap's ${fmt(allowed)} (${cap} × ${seconds} s ÷ ${ORIGIN_MS} ms) ${fmt(ok(r.sheddable).length / allowed, 2)}** (target ≥ 0.8)${vsFloor}; origin peak ${r.peak} (limit ${LIMIT})`,
			]);
		}
	} finally {
		origin.close();
	}
}

/** 13. Fairness: key A 60 clients, keys B-E 2 each; B-E stop before A does. Fair shares against no perKey and a fixed per-key limit. */
export async function fairnessScenario(rows: string[][], seconds = 9, othersSeconds = 6): Promise<void> {
	console.log(`13/15 fairness: limit ${LIMIT}, key A 60 clients, keys B-E 2 clients each (hey), ${ORIGIN_MS} ms origin`);
	const origin = await originProcess();
	const by = "header:x-key";
	try {
		let alone: number | null = null;
		let efficiency: number | null = null;
		for (const [name, limits] of [
			["no perKey (baseline; A alone after B-E stop: the machine's floor)", route(LIMIT)],
			["perKey { by } (fair shares)", route(LIMIT, { perKey: { by } })],
			["perKey { by, fair = false, limit = 12 } (baseline)", route(LIMIT, { perKey: { by, fair: false, limit: 12 } })],
		] as const) {
			const r = await measure(origin, limits, async (url) => {
				const target = `${url}/work?delay=${ORIGIN_MS}`;
				const stop = { done: false };
				const start = Date.now();
				const sampling = sampleTag(origin.url, "A", start, stop);
				const [a, ...others] = await Promise.all([
					heyCsv(target, 60, seconds, ["-H", "x-key: A", "-H", "x-origin-tag: A"]),
					...["B", "C", "D", "E"].map((k) => heyCsv(target, 2, othersSeconds, ["-H", `x-key: ${k}`])),
				]);
				stop.done = true;
				return { a: a ?? [], others: others.flat(), samples: await sampling };
			});
			const later = r.others.filter((s) => s.at >= 1000);
			const during = meanBetween(r.samples, 1000, othersSeconds * 1000);
			const duringAll = meanBetween(r.samples, 1000, othersSeconds * 1000, 2);
			const after = meanBetween(r.samples, othersSeconds * 1000, (othersSeconds + 2) * 1000);
			const afterSecond = meanBetween(r.samples, (othersSeconds + 1) * 1000, (othersSeconds + 2) * 1000);
			// The no-perKey run is the machine's floor once A is alone: what 60 clients of one key keep at the origin here.
			if (name.startsWith("no perKey")) {
				alone = afterSecond;
				efficiency = duringAll / LIMIT;
			}
			const vsAlone =
				alone !== null && !name.startsWith("no perKey")
					? `; ÷ the no-perKey run's A alone in that second (${fmt(alone, 1)}) **${fmt(afterSecond / alone, 2)}** (≥ 0.9, as 18 of 20)`
					: "";
			// A's fair share is 12 permits; the no-perKey run shows how much of a held permit the origin sees here.
			const vsShare =
				efficiency !== null && !name.startsWith("no perKey")
					? `; **A's in flight ÷ its share of 12 at the no-perKey run's origin efficiency (${share(efficiency, 1)}) ${fmt(during / (12 * efficiency), 2)}** (11-13 of 12: 0.92-1.08)`
					: "";
			rows.push([
				name.startsWith("no perKey") ? `13. fairness, limit ${LIMIT}` : "",
				name,
				`A ${ok(r.a).length} / ${r.a.length} admitted; B-E ${ok(r.others).length} / ${r.others.length}`,
				`**B-E success after the first second ${share(ok(later).length, later.length)}** (target ≥ 99 %); **A's mean in flight ${fmt(during, 1)}** while B-E run (target 11-13), ` +
					`**A's share of the origin's concurrency ${share(during, duringAll)}** (${fmt(duringAll, 1)} in all; target 55-65 %, as 11-13 of 20)${vsShare}; ` +
					`A's mean in flight in the 2 s after B-E stop ${fmt(after, 1)}, **in the second of them ${fmt(afterSecond, 1)}** (target ≥ 18 within 2 s)${vsAlone}; origin peak ${r.peak} (limit ${LIMIT})`,
			]);
		}
	} finally {
		origin.close();
	}
}

/**
 * 14. The queue under 2× overload: about 200 req/s offered by four staggered `hey` runs of 100 clients at 0.5 req/s
 * each; queue size 100, maxWaitMs 2000; order "adaptive" (CoDel's target and interval auto) against "fifo", and the
 * adaptive queue with Facebook's fixed 5 ms / 100 ms (the default before auto). Beside them, the ceiling in the same
 * run: the ideal gate (bench/ideal, a counter and a queue in one isolate's memory, no Durable Object) with the same
 * queue and the same order, whose admitted rate is what this machine lets any gate admit under that load.
 */
export async function overloadQueueScenario(rows: string[][], seconds = 15): Promise<void> {
	console.log(
		`14/15 queue under 2× overload: limit ${LIMIT}, ${2 * CAPACITY} req/s offered (open loop, Poisson arrivals), ${ORIGIN_MS} ms origin, ${seconds} s per server`,
	);
	const size = 100;
	const maxWaitMs = 2000;
	const origin = await originProcess();
	const cases = [
		{
			name: `gate, queue { size = ${size}, maxWaitMs = ${maxWaitMs}, order = "adaptive" } (auto target)`,
			order: "adaptive",
			ideal: false,
			fixed: false,
		},
		{ name: `gate, queue { size = ${size}, maxWaitMs = ${maxWaitMs}, order = "fifo" }`, order: "fifo", ideal: false, fixed: false },
		{
			name: 'gate, order = "adaptive", targetMs = 5, intervalMs = 100 (Facebook\'s fixed, the default before auto)',
			order: "adaptive",
			ideal: false,
			fixed: true,
		},
		{
			name: `ideal gate (bench/ideal), in-memory queue, same size and maxWaitMs, order "adaptive" (auto target)`,
			order: "adaptive",
			ideal: true,
			fixed: false,
		},
		{ name: 'ideal gate (bench/ideal), in-memory queue, order "fifo"', order: "fifo", ideal: true, fixed: false },
	] as const;
	const results: { admitted: Sent[]; sent: Sent[]; peak: number }[] = [];
	try {
		for (const c of cases) {
			const queue = { size, maxWaitMs, order: c.order, ...(c.fixed ? { targetMs: 5, intervalMs: 100 } : {}) };
			const options: LocalGateOptions = c.ideal
				? {
						configPath: "bench/ideal/wrangler.toml",
						vars: { LIMIT: String(LIMIT), QUEUE_SIZE: String(size), MAX_WAIT_MS: String(maxWaitMs), ORDER: c.order },
					}
				: { configPath: "wrangler.toml", limits: route(LIMIT, { queue }) };
			const r = await measureOn(origin, options, async (url) => ({
				sent: await openLoop(`${url}/work?delay=${ORIGIN_MS}`, 2 * CAPACITY, seconds),
			}));
			results.push({ ...r, admitted: ok(r.sent) });
		}
	} finally {
		origin.close();
	}
	const idealOf = (order: string) => results[cases.findIndex((c) => c.ideal && c.order === order)]?.admitted.length ?? 0;
	for (const [i, c] of cases.entries()) {
		const r = results[i];
		if (!r) continue;
		const admitted = r.admitted;
		const p50 = percentile(
			admitted.map((s) => s.ms),
			50,
		);
		const p99 = percentile(
			admitted.map((s) => s.ms),
			99,
		);
		const ideal = idealOf(c.order);
		rows.push([
			i === 0 ? `14. queue under 2× overload, limit ${LIMIT}, ${seconds} s per server` : "",
			c.name,
			`${fmt(r.sent.length / seconds)} req/s offered, ${fmt(admitted.length / seconds)} admitted/s, ${fmt((r.sent.length - admitted.length) / seconds)} refused/s`,
			`**admitted p50 ÷ origin ${fmt(p50 / ORIGIN_MS, 2)}** (target ≤ 1.5); p99 ${fmt(p99)} ms; **admitted ÷ capacity (${CAPACITY}/s) ${share(admitted.length / seconds, CAPACITY)}** (target ≥ 95 %)` +
				(c.ideal ? "" : `; **admitted ÷ the ideal gate's with a "${c.order}" queue ${share(admitted.length, ideal)}** (target ≥ 95 %)`) +
				`; origin peak ${r.peak} (limit ${LIMIT})`,
		]);
	}
}

/**
 * 15. Retries: 200 requests, 50 at a time, each retrying every 429 (limit 10, 2 s origin). "Retry-After": waits
 * exactly the header's seconds, as urllib3 does; the baseline waits a fixed second whatever the header says.
 */
export async function retriesScenario(rows: string[][], total = 200, concurrency = 50, deadlineMs = 120_000): Promise<void> {
	const limit = 10;
	const originMs = 2000;
	const optimum = (total / limit) * originMs;
	console.log(`15/15 retries: limit ${limit}, ${total} requests ${concurrency} at a time retrying 429s, ${originMs} ms origin`);
	const origin = await originProcess();
	try {
		for (const mode of ["retry-after", "fixed 1 s"] as const) {
			const r = await measure(origin, route(limit), async (url) => {
				let next = 0;
				let retries = 0;
				let failed = 0;
				const start = Date.now();
				const client = async (): Promise<void> => {
					while (next < total) {
						next++;
						const deadline = Date.now() + deadlineMs;
						for (;;) {
							const left = deadline - Date.now();
							const res =
								left > 0 ? await fetch(`${url}/retry?delay=${originMs}`, { signal: AbortSignal.timeout(left) }).catch(() => null) : null;
							if (res === null) {
								failed++;
								break;
							}
							await res.arrayBuffer();
							if (res.status === 200) break;
							if (res.status !== 429) {
								failed++;
								break;
							}
							retries++;
							const wait = mode === "retry-after" ? Number(res.headers.get("retry-after") ?? 1) * 1000 : 1000;
							await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
						}
					}
				};
				await Promise.all(Array.from({ length: concurrency }, client));
				return { ms: Date.now() - start, retries, failed };
			});
			rows.push([
				mode === "retry-after"
					? `15. retries, limit ${limit}, ${originMs / 1000} s origin, ${total} requests ${concurrency} at a time`
					: "",
				mode === "retry-after" ? "clients wait exactly Retry-After (spread)" : "clients wait a fixed 1 s, ignoring Retry-After (baseline)",
				`${fmt(r.ms / 1000, 1)} s in all, ${r.retries} retries, ${r.failed} failed`,
				`**total ÷ optimum (${optimum / 1000} s) ${fmt(r.ms / optimum, 2)}** (target ≤ 1.1); **retries per request ${fmt(r.retries / total, 2)}** (target ≤ 1.5); origin peak ${r.peak} (limit ${limit})`,
			]);
		}
		await refusalBurst(origin, rows, limit, originMs);
	} finally {
		origin.close();
	}
}

/** What one raw request of a burst got: its status and Retry-After, or null when it failed (refused connection, deadline). */
type BurstAnswer = { status: number; retryAfter: string | null } | null;

/**
 * Opens `n` connections to the server (each with its own deadline); `fire` then writes one request on each in one
 * synchronous loop, so all of them are in flight at once: no connection pool (undici's or http.Agent's) can hold any
 * back, and no answer can be read before the last request is written. Loopback only; bounded by `deadlineMs`.
 */
async function openBurst(
	url: string,
	n: number,
	deadlineMs: number,
): Promise<{ open: number; fire(path: string): Promise<{ answers: BurstAnswer[]; sentAt: number }> }> {
	const { hostname, port } = new URL(url);
	const sockets = await Promise.all(
		Array.from(
			{ length: n },
			() =>
				new Promise<Socket | null>((resolve) => {
					const socket = new Socket({ signal: AbortSignal.timeout(deadlineMs) });
					socket.once("connect", () => resolve(socket));
					socket.once("error", () => resolve(null));
					socket.connect(Number(port), hostname);
				}),
		),
	);
	const answers = sockets.map(
		(socket) =>
			new Promise<BurstAnswer>((resolve) => {
				if (!socket) return resolve(null);
				let head = "";
				socket.setEncoding("latin1");
				socket.on("data", (chunk: string) => {
					head += chunk;
					const end = head.indexOf("\r\n\r\n");
					if (end < 0) return;
					const [statusLine = "", ...fields] = head.slice(0, end).split("\r\n");
					const retryAfter = fields.find((f) => /^retry-after:/i.test(f))?.replace(/^retry-after:\s*/i, "") ?? null;
					resolve({ status: Number(statusLine.split(" ")[1]), retryAfter });
					socket.destroy();
				});
				socket.once("error", () => resolve(null));
				socket.once("close", () => resolve(null));
			}),
	);
	return {
		open: sockets.filter((s) => s !== null).length,
		async fire(path) {
			const sentAt = Date.now();
			for (const socket of sockets) socket?.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
			return { answers: await Promise.all(answers), sentAt };
		},
	};
}

/**
 * 15, second target: 1 000 refusals in one burst, no one-second bucket with more than 25 % of the retries. On the gate
 * (limit 10, 2 s origin, after 20 requests of 2 s so the object's mean hold time is the origin's), the 10 permits are
 * filled, then 1 000 requests arrive at once; each 429's retry would come at its send time + Retry-After, bucketed by
 * whole second since the burst. Beside it, the same burst on the ideal gate, whose Retry-After is a fixed 1 s.
 */
async function refusalBurst(origin: OriginProcess, rows: string[][], limit: number, originMs: number, n = 1_000): Promise<void> {
	console.log(`15/15 refusal burst: limit ${limit}, ${limit} permits held (${originMs} ms origin), then ${n} requests at once`);
	for (const [name, options] of [
		["gate: Retry-After spread", { configPath: "wrangler.toml", limits: route(limit) }],
		[
			'ideal gate (bench/ideal): a fixed "Retry-After: 1" (baseline)',
			{ configPath: "bench/ideal/wrangler.toml", vars: { LIMIT: String(limit) } },
		],
	] as const) {
		const r = await measureOn(origin, options, async (url) => {
			const hold = () =>
				Promise.all(
					Array.from({ length: limit }, () =>
						fetch(`${url}/hold?delay=${originMs}`, { signal: AbortSignal.timeout(originMs + 20_000) }).then(
							(res) => res.arrayBuffer(),
							() => null,
						),
					),
				);
			// Two rounds of full holds: the object's mean hold time (Retry-After's estimate) comes to the origin's time.
			for (let round = 0; round < 2; round++) await hold();
			// The connections open before the permits are taken, so the burst lands well within their hold.
			const burst = await openBurst(url, n, originMs + 30_000);
			const held = hold();
			const until = Date.now() + 5_000;
			while ((await origin.stats()).inFlight < limit && Date.now() < until) await sleep(20);
			const fired = await burst.fire(`/burst?delay=${originMs}`);
			const answeredMs = Date.now() - fired.sentAt;
			await held;
			return { ...fired, open: burst.open, answeredMs };
		});
		const refused = r.answers.filter((a) => a?.status === 429);
		// Every request was sent at the same instant (fire's one loop), so a retry's second after the burst is the
		// whole seconds of send time + Retry-After, counted from that send time: Retry-After's own whole seconds.
		const buckets = new Map<number, number>();
		for (const a of refused) {
			const second = Math.floor(Number(a?.retryAfter ?? Number.NaN));
			buckets.set(second, (buckets.get(second) ?? 0) + 1);
		}
		const largest = Math.max(0, ...buckets.values());
		const seconds = [...buckets.keys()].filter(Number.isFinite);
		rows.push([
			name.startsWith("gate") ? `15. refusal burst, limit ${limit}, ${originMs / 1000} s origin, ${n} requests at once` : "",
			name,
			`${r.open} of ${n} connections open before any request was written, all ${r.open} written at once, the last answer ${fmt(r.answeredMs)} ms after; ${refused.length} refused (429), ` +
				`${r.answers.filter((a) => a?.status === 200).length} admitted, ${r.answers.filter((a) => a === null).length} failed`,
			`**largest one-second bucket of retries ${share(largest, refused.length)}** (target ≤ 25 %); ${buckets.size} distinct seconds` +
				(seconds.length > 0 ? ` (${Math.min(...seconds)}-${Math.max(...seconds)} s after the burst)` : "") +
				`; origin peak ${r.peak} (limit ${limit})`,
		]);
	}
}
