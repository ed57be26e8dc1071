// Two gate Workers in one workerd, each in its own isolate with its own memory (and block pool), both bound to
// one Gauge class (the second through script_name), each on its own loopback port: what two data centres'
// isolates look like to one route's Durable Object. Used by the two-isolate test and the benchmark.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

export interface TwoGates {
	/** Each Worker's own base URL (http://127.0.0.1:<port>). */
	readonly urls: readonly [string, string];
	readonly mf: Miniflare;
	close(): Promise<void>;
}

/** Bundles src/index.ts and starts it twice with the given LIMITS; the origin is `origin`. */
export async function startTwoGates(origin: string, limits: unknown): Promise<TwoGates> {
	const dir = await mkdtemp(join(tmpdir(), "pressure-gauge-two-"));
	const script = join(dir, "gate.mjs");
	await build({
		entryPoints: ["src/gate/index.ts"],
		bundle: true,
		format: "esm",
		platform: "neutral",
		outfile: script,
		external: ["cloudflare:*"],
		logLevel: "silent",
	});
	const common = {
		modules: true,
		modulesRoot: dir,
		scriptPath: script,
		compatibilityDate: "2026-10-01",
		compatibilityFlags: ["enable_request_signal"],
		bindings: { ORIGIN: origin, ADMIN_TOKEN: "", ADMIN_PREFIX: "", LIMITS: limits },
		unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
	};
	const mf = new Miniflare(
		convertV4MiniflareOptions({
			host: "127.0.0.1",
			workers: [
				{ ...common, name: "gate-a", durableObjects: { GAUGE: { className: "Gauge", useSQLite: true } } },
				{ ...common, name: "gate-b", durableObjects: { GAUGE: { className: "Gauge", scriptName: "gate-a", useSQLite: true } } },
			],
		}),
	);
	await mf.ready;
	const base = async (name: string): Promise<string> => (await mf.unsafeGetDirectURL(name)).origin;
	const urls = [await base("gate-a"), await base("gate-b")] as const;
	return {
		urls,
		mf,
		async close() {
			await mf.dispose();
			await rm(dir, { recursive: true, force: true });
		},
	};
}
