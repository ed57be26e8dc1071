// Throwaway: `node bench/perf/run.ts [variant...]` runs each variant of bench/perf/index.ts with hey, in turns,
// ROUNDS times, and prints req/s and the ratio to the round's baseline (bare for 200s, r429 for refusals).
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { startGate } from "../../dev/gate.ts";
import { startOrigin } from "../../dev/origin.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = process.env.SECONDS_EACH ?? "4";
const CONC = process.env.CONC ?? "20";
const DELAY = process.env.DELAY ?? "0";
const variants = process.argv.slice(2);
const base = process.env.BASE ?? variants[0] ?? "bare";

// Async: the origin runs in this process, so its event loop must keep turning.
async function hey(url: string, variant: string): Promise<{ rps: number; codes: string }> {
	const { stdout: out } = await promisify(execFile)(
		"hey",
		["-z", `${SECONDS}s`, "-c", CONC, "-t", "10", "-H", `x-variant: ${variant}`, url],
		{
			encoding: "utf8",
			maxBuffer: 1 << 24,
		},
	);
	const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
	const codes = [...out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].map((m) => `${m[1]}:${m[2]}`).join(" ");
	const errs = /Error distribution:([\s\S]*)/.exec(out)?.[1]?.trim().split("\n")[0] ?? "";
	return { rps, codes: errs ? `${codes} ERR ${errs.slice(0, 60)}` : codes };
}

/** CPU seconds (user+system) of every workerd process under this one: the runtime's cost, whatever else loads the machine. */
function workerdCpu(): number {
	const ticks = 100;
	let total = 0;
	const kids = new Map<number, number[]>();
	const names = new Map<number, string>();
	for (const d of readdirSync("/proc")) {
		if (!/^\d+$/.test(d)) continue;
		try {
			const stat = readFileSync(`/proc/${d}/stat`, "utf8");
			const close = stat.lastIndexOf(")");
			const name = stat.slice(stat.indexOf("(") + 1, close);
			const f = stat.slice(close + 2).split(" ");
			const ppid = Number(f[1]);
			names.set(Number(d), name);
			kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
		} catch {}
	}
	const stack = [process.pid];
	while (stack.length) {
		const pid = stack.pop() as number;
		for (const k of kids.get(pid) ?? []) {
			stack.push(k);
			if (names.get(k) === "workerd") {
				const stat = readFileSync(`/proc/${k}/stat`, "utf8");
				const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
				total += (Number(f[11]) + Number(f[12])) / ticks;
			}
		}
	}
	return total;
}

/** ORIGIN_KIND=cl: a tiny origin that sends Content-Length (as Go does for small bodies); else dev/origin.ts (chunked). */
async function clOrigin(): Promise<{ url: string; close(): Promise<void> }> {
	const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain", "content-length": "4" }).end("done"));
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
const origin = process.env.ORIGIN_KIND === "cl" ? await clOrigin() : await startOrigin();
const gate = await startGate({ configPath: "bench/perf/wrangler.toml", origin: origin.url });
/** SECOND=<dir>: a second copy of the project whose bench/perf Worker serves the variants named "b:<variant>". */
const second = process.env.SECOND
	? await startGate({ configPath: `${process.env.SECOND}/bench/perf/wrangler.toml`, origin: origin.url })
	: null;
const path = `/fast?delay=${DELAY}`;
const urlOf = (v: string): string => `${v.startsWith("b:") && second ? second.url : gate.url}${path}`;
const variantOf = (v: string): string => v.replace(/^b:/, "");
const results = new Map<string, number[]>();
const cpus = new Map<string, number[]>();
try {
	for (const v of variants) {
		const r = await fetch(urlOf(v), { headers: { "x-variant": variantOf(v) }, signal: AbortSignal.timeout(10_000) });
		console.log(`warm ${v}: ${r.status} ${(await r.text()).slice(0, 60)}`);
	}
	for (let round = 0; round < ROUNDS; round++) {
		// Rotate the order each round, so no variant always follows the same one.
		const order = variants.map((_, i) => variants[(i + round) % variants.length] as string);
		for (const v of order) {
			const cpu0 = workerdCpu();
			const { rps, codes } = await hey(urlOf(v), variantOf(v));
			const usPerReq = ((workerdCpu() - cpu0) / (rps * Number(SECONDS))) * 1e6;
			results.set(v, [...(results.get(v) ?? []), rps]);
			cpus.set(v, [...(cpus.get(v) ?? []), usPerReq]);
			console.log(
				`round ${round + 1} ${v.padEnd(16)} ${rps.toFixed(0).padStart(6)} req/s ${usPerReq.toFixed(0).padStart(5)} us/req workerd  ${codes}`,
			);
		}
	}
} finally {
	await gate.close();
	await second?.close();
	await origin.close();
}
const baseRuns = results.get(base) ?? [];
console.log(`\nvariant            req/s (rounds)        ratio to ${base} per round -> range   workerd us/req (rounds)`);
for (const v of variants) {
	const runs = results.get(v) ?? [];
	const ratios = runs.map((r, i) => r / (baseRuns[i] ?? Number.NaN));
	const lo = Math.min(...ratios).toFixed(2);
	const hi = Math.max(...ratios).toFixed(2);
	const c = (cpus.get(v) ?? []).map((x) => x.toFixed(0)).join(" / ");
	console.log(
		`${v.padEnd(18)} ${runs
			.map((r) => r.toFixed(0))
			.join(" / ")
			.padEnd(22)} ${`${lo}-${hi}`.padEnd(28)} ${c}`,
	);
}
