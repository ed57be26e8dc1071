// Benchmark scenarios for blocks (docs/blocks.md), run by bench/run.ts as scenarios 5-9. Each compares
// servers measured in the same run: the bare proxy, the gate with blocks, the gate with k = 1 ("off"),
// and a 429-only Worker. bench/far/ is the gate with counted (and optionally delayed) object calls;
// dev/two-gates.ts runs two gate Workers, each its own isolate, on one Durable Object.

import { execFile, spawn } from "node:child_process";
import type { LocalGate } from "../dev/gate.ts";
import { startGate } from "../dev/gate.ts";
import { percentile } from "../dev/load.ts";
import type { Origin, OriginStats } from "../dev/origin.ts";
import { meanConcurrency } from "../dev/origin.ts";
import { startTwoGates } from "../dev/two-gates.ts";

export interface Measured {
	requests: number;
	perSecond: number;
	latencies: Map<number, number[]>;
	errors: number;
}

export type Load = (url: string, connections: number, seconds?: number) => Promise<Measured>;

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const count = (m: Measured, status: number): number => m.latencies.get(status)?.length ?? 0;

const route = (limit: number, extra: Record<string, unknown> = {}) => ({ routes: [{ name: "bench", path: "/*", limit, ...extra }] });

async function calls(g: LocalGate, reset = false): Promise<Record<string, number>> {
	const res = await fetch(`${g.url}/__bench/calls`, { method: reset ? "DELETE" : "GET", signal: AbortSignal.timeout(10_000) });
	return (await res.json()) as Record<string, number>;
}
const objectCalls = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0);

async function servers(entries: Record<string, Parameters<typeof startGate>[0]>): Promise<Record<string, LocalGate>> {
	const started: Record<string, LocalGate> = {};
	for (const [name, options] of Object.entries(entries)) {
		started[name] = await startGate(options);
		await (await fetch(`${started[name].url}/warm-up?delay=0`, { signal: AbortSignal.timeout(10_000) })).arrayBuffer();
	}
	return started;
}

async function closeAll(started: Record<string, LocalGate>): Promise<void> {
	await Promise.all(Object.values(started).map((s) => s.close()));
}

/** 5. Below the limit (10 000, one isolate): throughput against the bare proxy, and object calls per admitted request. */
export async function belowLimit(origin: Origin, load: Load, rows: string[][], rounds = 3, seconds = 3): Promise<void> {
	console.log(`5/10 blocks below the limit: bare vs gate with blocks vs gate with k = 1, 20 connections, ${rounds} rounds`);
	const s = await servers({
		bare: { configPath: "bench/bare/wrangler.toml", origin: origin.url },
		blocks: { configPath: "bench/far/wrangler.toml", origin: origin.url, limits: route(10_000) },
		"k = 1": { configPath: "bench/far/wrangler.toml", origin: origin.url, limits: route(10_000, { blocks: "off" }) },
		// The gate's own cost with no gauge at all: the same Worker, the request matching no route.
		ungated: { configPath: "bench/far/wrangler.toml", origin: origin.url, limits: { routes: [] } },
	});
	const measured = new Map<string, Measured[]>();
	const used = new Map<string, number>();
	try {
		for (const g of [s.blocks, s["k = 1"]]) if (g) await calls(g, true);
		for (let round = 0; round < rounds; round++) {
			for (const [name, g] of Object.entries(s))
				measured.set(name, [...(measured.get(name) ?? []), await load(`${g.url}/fast?delay=0`, 20, seconds)]);
		}
		for (const name of ["blocks", "k = 1"]) {
			const g = s[name];
			if (g) used.set(name, objectCalls(await calls(g)));
		}
	} finally {
		await closeAll(s);
	}
	const rate = (name: string): number => mean((measured.get(name) ?? []).map((m) => m.perSecond));
	const admitted = (name: string): number => (measured.get(name) ?? []).reduce((n, m) => n + count(m, 200), 0);
	const bare = rate("bare");
	rows.push(["5. blocks, below the limit", "bare proxy", `${fmt(bare)} req/s`, ""]);
	rows.push([
		"",
		"gate, request matching no route (no gauge)",
		`${fmt(rate("ungated"))} req/s`,
		`gate without a gauge / bare ${fmt(rate("ungated") / bare, 2)}`,
	]);
	for (const name of ["blocks", "k = 1"]) {
		const perAdmitted = (used.get(name) ?? 0) / Math.max(1, admitted(name));
		rows.push([
			"",
			`gate, limit 10 000, ${name === "blocks" ? "blocks (default: max 1 000)" : 'blocks = "off"'}`,
			`${fmt(rate(name))} req/s`,
			`**gate/bare ${fmt(rate(name) / bare, 2)}** (target ≥ 0.85); **object calls per admitted request ${fmt(perAdmitted, 3)}** (target ≤ 0.05)`,
		]);
	}
}

/** 6. Distance: every object call delayed by 100 ms; the latency admitted requests pay for it. */
export async function distance(origin: Origin, load: Load, rows: string[][], seconds = 6): Promise<void> {
	console.log("6/10 blocks at a distance: object calls delayed by 100 ms, 10 connections");
	const far = { configPath: "bench/far/wrangler.toml", origin: origin.url, vars: { DELAY_MS: "100" } };
	const s = await servers({
		bare: { configPath: "bench/bare/wrangler.toml", origin: origin.url },
		blocks: { ...far, limits: route(10_000) },
		"k = 1": { ...far, limits: route(10_000, { blocks: "off" }) },
	});
	const p50 = new Map<string, number>();
	try {
		for (const [name, g] of Object.entries(s))
			p50.set(name, percentile((await load(`${g.url}/fast?delay=0`, 10, seconds)).latencies.get(200) ?? [], 50));
	} finally {
		await closeAll(s);
	}
	const bare = p50.get("bare") ?? Number.NaN;
	rows.push(["6. blocks at a distance (+100 ms per object call)", "bare proxy", `admitted p50 ${fmt(bare, 1)} ms`, ""]);
	for (const [name, target] of [
		["blocks", "≤ 5 ms"],
		["k = 1", "≥ 100 ms"],
	] as const) {
		const added = (p50.get(name) ?? Number.NaN) - bare;
		rows.push([
			"",
			`gate, limit 10 000, ${name}`,
			`admitted p50 ${fmt(p50.get(name) ?? Number.NaN, 1)} ms`,
			`**added p50 ${fmt(added, 1)} ms** (target ${target})`,
		]);
	}
}

/** 7. Flood: limit 10, 100 connections (hey), 200 ms origin; refusals/s against a Worker that only answers 429. */
export async function flood(rows: string[][], seconds = 8, rounds = 2): Promise<void> {
	console.log(`7/10 flood with blocks: limit 10, 100 connections (hey), 200 ms origin in its own process, ${rounds} rounds`);
	const origin = await originProcess();
	const s = await servers({
		"429 only": { configPath: "bench/refuse/wrangler.toml" },
		"blocks forced on (max 5)": { configPath: "bench/far/wrangler.toml", origin: origin.url, limits: route(10, { blocks: { max: 5 } }) },
		"default (limit 10: k = 1)": { configPath: "bench/far/wrangler.toml", origin: origin.url, limits: route(10) },
	});
	const results = new Map<string, { refused: number; admitted: number; requests: number; peak: number; calls: number }>();
	try {
		// Servers take turns within each round, so the machine's drift touches them alike.
		for (let round = 0; round < rounds; round++) {
			for (const [name, g] of Object.entries(s)) {
				await quiet(() => origin.stats());
				await origin.stats(true);
				if (name !== "429 only") await calls(g, true);
				const m = await hey(`${g.url}/slow?delay=200`, 100, seconds);
				const was = results.get(name) ?? { refused: 0, admitted: 0, requests: 0, peak: 0, calls: 0 };
				results.set(name, {
					refused: was.refused + (m.get(429)?.length ?? 0),
					admitted: was.admitted + (m.get(200)?.length ?? 0),
					requests: was.requests + [...m.values()].reduce((n, l) => n + l.length, 0),
					peak: Math.max(was.peak, (await origin.stats()).peak),
					calls: was.calls + (name === "429 only" ? 0 : objectCalls(await calls(g))),
				});
			}
		}
	} finally {
		await closeAll(s);
		origin.close();
	}
	const span = seconds * rounds;
	const ceiling = (results.get("429 only")?.refused ?? 0) / span;
	rows.push(["7. flood, limit 10, 10× demand", "a Worker that only answers 429", `${fmt(ceiling)} refusals/s`, ""]);
	for (const [name, r] of results) {
		if (name === "429 only") continue;
		rows.push([
			"",
			`gate, ${name}`,
			`${fmt(r.refused / span)} refusals/s, ${fmt(r.admitted / span)} admitted/s`,
			`**refusals ÷ 429-only ${fmt(r.refused / span / ceiling, 2)}** (target ≥ 0.9); object calls per request ${fmt(r.calls / Math.max(1, r.requests), 3)}; origin peak ${r.peak} (limit 10)`,
		]);
	}
}

/** Runs `hey` (a Go load generator, a process of its own) and returns each request's status and latency in ms. */
export function hey(url: string, connections: number, seconds: number): Promise<Map<number, number[]>> {
	return new Promise((resolve, reject) => {
		const args = ["-z", `${seconds}s`, "-c", String(connections), "-t", "10", "-o", "csv", url];
		execFile("hey", args, { maxBuffer: 256 * 2 ** 20, timeout: (seconds + 30) * 1000 }, (error, stdout) => {
			if (error) return reject(new Error(`hey ${args.join(" ")}: ${error.message} (install it with apt-get install hey)`));
			const latencies = new Map<number, number[]>();
			for (const line of stdout.split("\n").slice(1)) {
				const [time, , , , , , status] = line.split(",");
				if (!status) continue;
				const list = latencies.get(Number(status)) ?? [];
				list.push(Number(time) * 1000);
				latencies.set(Number(status), list);
			}
			resolve(latencies);
		});
	});
}

/** The origin in a process of its own (bench/origin-process.ts): its answers never wait for the load generator. */
export async function originProcess(): Promise<{ url: string; stats(reset?: boolean): Promise<OriginStats>; close(): void }> {
	const child = spawn(process.execPath, ["bench/origin-process.ts"], { stdio: ["ignore", "pipe", "inherit"] });
	const url = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error("the origin process did not start within 10 s")), 10_000);
		child.stdout.once("data", (d: Buffer) => {
			clearTimeout(timer);
			resolve(d.toString().trim());
		});
	});
	return {
		url,
		async stats(reset = false) {
			const res = await fetch(`${url}/__stats`, { method: reset ? "DELETE" : "GET", signal: AbortSignal.timeout(10_000) });
			return (await res.json()) as OriginStats;
		},
		close: () => child.kill("SIGTERM"),
	};
}

/** Waits (at most 5 s) until the origin serves nothing, so one server's leftovers never count against the next. */
export async function quiet(stats: () => Promise<OriginStats>): Promise<void> {
	const until = Date.now() + 5_000;
	while ((await stats()).inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

/** 8. Two isolates contending: limit 20, 25 clients on each, 100 ms origin; the origin's mean concurrency. */
export async function contention(rows: string[][], seconds = 6): Promise<void> {
	const limit = 20;
	console.log(`8/10 two isolates contending: limit ${limit}, 2 × 25 connections (hey), 100 ms origin in its own process`);
	const origin = await originProcess();
	try {
		for (const blocks of [{ max: 10 }, "off"] as const) {
			const gates = await startTwoGates(origin.url, { routes: [{ name: "bench", path: "/*", limit, blocks }] });
			try {
				for (const url of gates.urls) await hey(`${url}/warm-up?delay=0`, 1, 1);
				await quiet(() => origin.stats());
				await origin.stats(true);
				const [a, b] = await Promise.all(gates.urls.map((url) => hey(`${url}/work?delay=100`, 25, seconds)));
				const stats = await origin.stats();
				const used = meanConcurrency(stats) / limit;
				const admitted = (m: Map<number, number[]> | undefined): number => m?.get(200)?.length ?? 0;
				rows.push([
					blocks === "off" ? "" : "8. two isolates contending, limit 20",
					`two gate isolates, ${blocks === "off" ? 'blocks = "off"' : "blocks { max = 10 }"}`,
					`admitted/s ${fmt(admitted(a) / seconds)} + ${fmt(admitted(b) / seconds)}`,
					`**utilisation ${fmt(100 * used)} %** of the limit (target ≥ 90 %); origin peak ${stats.peak} (limit ${limit})`,
				]);
			} finally {
				await gates.close();
			}
		}
	} finally {
		origin.close();
	}
}

/** 9. Flood utilisation, one isolate: limit 10, 50 clients, origins of 100 and 200 ms; k = 1 against blocks. */
export async function floodUtilisation(rows: string[][], seconds = 6): Promise<void> {
	console.log("9/10 flood utilisation: limit 10, 50 connections (hey), 100 and 200 ms origins in their own process");
	const origin = await originProcess();
	const configs = {
		'blocks = "off" (k = 1)': route(10, { blocks: "off" }),
		"blocks { max = 10 }": route(10, { blocks: { max: 10 } }),
	};
	const s = await servers({
		...Object.fromEntries(
			Object.entries(configs).map(([name, limits]) => [name, { configPath: "wrangler.toml", origin: origin.url, limits }]),
		),
		// The floor on this machine: a counter in one isolate's memory, measured under the same load.
		"ideal gate (bench/ideal: an in-memory counter)": {
			configPath: "bench/ideal/wrangler.toml",
			origin: origin.url,
			vars: { LIMIT: "10" },
		},
	});
	try {
		for (const delay of [100, 200]) {
			for (const [name, g] of Object.entries(s)) {
				await quiet(() => origin.stats());
				await origin.stats(true);
				const latencies = await hey(`${g.url}/work?delay=${delay}`, 50, seconds);
				const stats = await origin.stats();
				const used = meanConcurrency(stats) / 10;
				const p50 = percentile(latencies.get(200) ?? [], 50);
				rows.push([
					delay === 100 && name.startsWith('blocks = "off') ? "9. flood utilisation, limit 10, 50 clients" : "",
					`${delay} ms origin, ${name}`,
					`${fmt((latencies.get(200)?.length ?? 0) / seconds)} admitted/s, ${fmt((latencies.get(429)?.length ?? 0) / seconds)} refused/s, admitted p50 ${fmt(p50)} ms`,
					`**origin concurrency ${fmt(100 * used)} %** of the limit (target ≥ 90 %); **p50 ÷ origin ${fmt(p50 / delay, 2)}** (target ≤ 1.2); peak ${stats.peak}`,
				]);
			}
		}
	} finally {
		await closeAll(s);
		origin.close();
	}
}
