// Benchmark scenarios for blocks (README, "Blocks"), run by bench/run.ts as scenarios 5-9. Each compares
// servers measured in the same run: the bare proxy, the gate with blocks, the gate with k = 1 ("off"),
// and a 429-only Worker. bench/far/ is the gate with counted (and optionally delayed) object calls;
// dev/two-gates.ts runs two gate Workers, each its own isolate, on one Durable Object.
import type { LocalGate } from "../dev/gate.ts";
import { startGate } from "../dev/gate.ts";
import { percentile } from "../dev/load.ts";
import type { Origin } from "../dev/origin.ts";
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

/** 7. Flood: limit 10, 100 connections, 200 ms origin; refusals/s against a Worker that only answers 429. */
export async function flood(origin: Origin, load: Load, rows: string[][], seconds = 8): Promise<void> {
	console.log("7/10 flood with blocks: limit 10, 100 connections, 200 ms origin, vs a 429-only Worker");
	const s = await servers({
		"429 only": { configPath: "bench/refuse/wrangler.toml" },
		"blocks forced on (max 5)": { configPath: "bench/far/wrangler.toml", origin: origin.url, limits: route(10, { blocks: { max: 5 } }) },
		"default (limit 10: k = 1)": { configPath: "bench/far/wrangler.toml", origin: origin.url, limits: route(10) },
	});
	const results = new Map<string, { m: Measured; peak: number; calls: number }>();
	try {
		for (const [name, g] of Object.entries(s)) {
			origin.reset();
			if (name !== "429 only") await calls(g, true);
			const m = await load(`${g.url}/slow?delay=200`, 100, seconds);
			results.set(name, { m, peak: origin.stats().peak, calls: name === "429 only" ? 0 : objectCalls(await calls(g)) });
		}
	} finally {
		await closeAll(s);
	}
	const ceiling = count(results.get("429 only")?.m ?? { requests: 0, perSecond: 0, latencies: new Map(), errors: 0 }, 429) / seconds;
	rows.push(["7. flood, limit 10, 10× demand", "a Worker that only answers 429", `${fmt(ceiling)} refusals/s`, ""]);
	for (const [name, r] of results) {
		if (name === "429 only") continue;
		const refused = count(r.m, 429) / seconds;
		rows.push([
			"",
			`gate, ${name}`,
			`${fmt(refused)} refusals/s, ${fmt(count(r.m, 200) / seconds)} admitted/s`,
			`**refusals ÷ 429-only ${fmt(refused / ceiling, 2)}** (target ≥ 0.9); object calls per request ${fmt(r.calls / Math.max(1, r.m.requests), 3)}; origin peak ${r.peak} (limit 10)`,
		]);
	}
}

/** 8. Two isolates contending: limit 20, 25 clients on each, 100 ms origin; the origin's mean concurrency. */
export async function contention(origin: Origin, load: Load, rows: string[][], seconds = 6): Promise<void> {
	const limit = 20;
	console.log(`8/10 two isolates contending: limit ${limit}, 2 × 25 connections, 100 ms origin`);
	for (const blocks of [{ max: 10 }, "off"] as const) {
		const gates = await startTwoGates(origin.url, { routes: [{ name: "bench", path: "/*", limit, blocks }] });
		try {
			for (const url of gates.urls) await load(`${url}/warm-up?delay=0`, 1, 1);
			origin.reset();
			const [a, b] = await Promise.all(gates.urls.map((url) => load(`${url}/work?delay=100`, 25, seconds)));
			const used = meanConcurrency(origin.stats()) / limit;
			const admitted = (m: Measured | undefined): number => (m ? count(m, 200) : 0);
			rows.push([
				blocks === "off" ? "" : "8. two isolates contending, limit 20",
				`two gate isolates, ${blocks === "off" ? 'blocks = "off"' : "blocks { max = 10 }"}`,
				`admitted/s ${fmt(admitted(a) / seconds)} + ${fmt(admitted(b) / seconds)}`,
				`**utilisation ${fmt(100 * used)} %** of the limit (target ≥ 90 %); origin peak ${origin.stats().peak} (limit ${limit})`,
			]);
		} finally {
			await gates.close();
		}
	}
}

/** 9. Flood utilisation, one isolate: limit 10, 50 clients, origins of 100 and 200 ms; k = 1 against blocks. */
export async function floodUtilisation(origin: Origin, load: Load, rows: string[][], seconds = 6): Promise<void> {
	console.log("9/10 flood utilisation: limit 10, 50 connections, 100 and 200 ms origins");
	const configs = {
		'blocks = "off" (k = 1)': route(10, { blocks: "off" }),
		"blocks { max = 10 }": route(10, { blocks: { max: 10 } }),
	};
	const s = await servers(
		Object.fromEntries(
			Object.entries(configs).map(([name, limits]) => [name, { configPath: "wrangler.toml", origin: origin.url, limits }]),
		),
	);
	try {
		for (const delay of [100, 200]) {
			for (const [name, g] of Object.entries(s)) {
				origin.reset();
				const m = await load(`${g.url}/work?delay=${delay}`, 50, seconds);
				const used = meanConcurrency(origin.stats()) / 10;
				const p50 = percentile(m.latencies.get(200) ?? [], 50);
				rows.push([
					delay === 100 && name.startsWith("blocks =") ? "9. flood utilisation, limit 10, 50 clients" : "",
					`${delay} ms origin, ${name}`,
					`${fmt(count(m, 200) / seconds)} admitted/s, admitted p50 ${fmt(p50)} ms`,
					`**origin concurrency ${fmt(100 * used)} %** of the limit (target ≥ 90 %); **p50 ÷ origin ${fmt(p50 / delay, 2)}** (target ≤ 1.2); peak ${origin.stats().peak}`,
				]);
			}
		}
	} finally {
		await closeAll(s);
	}
}
