// Starts the gate on wrangler's local runtime (workerd, as `wrangler dev` runs it) with a config of the caller's.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { request } from "./client.ts";

export interface LocalGate {
	readonly url: string;
	/** The admin status of a route (GET /__gauge/status), or an error if it is not answered within STATUS_TIMEOUT_MS. */
	status(route: string): Promise<RouteStatus>;
	/** Live (unexpired, unreleased) leases in a route's Durable Object. */
	inFlight(route: string): Promise<number>;
	/**
	 * Reloads the Worker as a deploy would: isolates and Durable Objects restart (their memory and the
	 * requests they were serving are lost); Durable Object storage is kept. Rejects if the runtime is not
	 * ready again within RELOAD_TIMEOUT_MS.
	 */
	reload(): Promise<void>;
	close(): Promise<void>;
}

export interface RouteStatus {
	name: string;
	limit: {
		configured: number;
		effective: number;
		override: number | null;
		/** On an adaptive route: what it learned and sees (src/object/adaptive-gauge.ts, AdaptiveStatus). */
		adaptive: {
			limit: number;
			learned: number;
			phase: string;
			baselineMs: number | null;
			recentMs: number | null;
			queue: number | null;
		} | null;
	};
	inFlight: number;
	counters: Record<string, number>;
	/** When the route's Durable Object started counting (epoch ms): a restart moves it on. */
	countersSince: number;
	holds: { buckets: number[]; sumMs: number; count: number };
}

export interface LocalGateOptions {
	/** The LIMITS var (replaces the one in wrangler.toml). */
	limits?: unknown;
	/** The ORIGIN var. */
	origin?: string;
	/** Another wrangler config, e.g. a bare pass-through Worker for the benchmark's baseline. */
	configPath?: string;
	/** Where Durable Object storage lives (a fresh folder is made inside). Default: the OS's temp folder. */
	stateDir?: string;
	/** More plain-text vars (e.g. the benchmark's DELAY_MS). */
	vars?: Record<string, string>;
}

/** Deadline of one status read, body included. */
export const STATUS_TIMEOUT_MS = 10_000;
/** Deadline of a reload (wrangler restarting workerd with the new config). */
export const RELOAD_TIMEOUT_MS = 30_000;

/** The admin token the local gate is started with. */
export const LOCAL_ADMIN_TOKEN = "local-test-token";

export async function startGate(options: LocalGateOptions = {}): Promise<LocalGate> {
	const persist = await mkdtemp(join(options.stateDir ?? tmpdir(), "pressure-gauge-"));
	const bindings: Record<string, { type: "json"; value: unknown } | { type: "plain_text" | "secret_text"; value: string }> = {
		// Every var the Worker reads is pinned, so a developer's .dev.vars or edited [vars] cannot change a test.
		ADMIN_TOKEN: { type: "secret_text", value: LOCAL_ADMIN_TOKEN },
		ADMIN_PREFIX: { type: "plain_text", value: "/__gauge" },
		ORIGIN: { type: "plain_text", value: options.origin ?? "" },
	};
	if (options.limits !== undefined) bindings.LIMITS = { type: "json", value: options.limits };
	for (const [name, value] of Object.entries(options.vars ?? {})) bindings[name] = { type: "plain_text", value };
	let generation = 0;
	const input = () => ({
		config: options.configPath ?? "wrangler.toml",
		bindings: { ...bindings, GENERATION: { type: "plain_text" as const, value: String(generation) } },
		dev: {
			server: { hostname: "127.0.0.1", port: 0 },
			inspector: false as const,
			watch: false,
			// GATE_LOG_LEVEL=log shows the Worker's console and the runtime's warnings when debugging a test.
			logLevel: (process.env.GATE_LOG_LEVEL ?? "none") as "none",
			persist,
		},
	});
	// The input's binding types are wider in wrangler than in its published declarations.
	const worker = await unstable_startWorker(input() as never);
	await worker.ready;
	const url = (await worker.url).origin;

	const status = async (route: string): Promise<RouteStatus> => {
		const res = await request(`${url}/__gauge/status`, {
			headers: { authorization: `Bearer ${LOCAL_ADMIN_TOKEN}` },
			timeoutMs: STATUS_TIMEOUT_MS,
		});
		if (res.status !== 200) throw new Error(`status: ${res.status} ${res.text}`);
		const { routes } = JSON.parse(res.text) as { routes: RouteStatus[] };
		const found = routes.find((r) => r.name === route);
		if (!found) throw new Error(`status: no route ${route} in ${JSON.stringify(routes)}`);
		return found;
	};
	return {
		url,
		status,
		inFlight: async (route) => (await status(route)).inFlight,
		async reload() {
			generation++;
			// `worker.ready` is the proxy's readiness, settled since the start: it does not wait for a reload.
			// The runtime says when the new config is running (wrangler's DevEnv re-emits `reloadComplete`).
			let timer: ReturnType<typeof setTimeout> | undefined;
			let onReloaded = (): void => undefined;
			const reloaded = new Promise<void>((resolve, reject) => {
				onReloaded = resolve;
				worker.raw.once("reloadComplete", onReloaded);
				timer = setTimeout(
					() => reject(new Error(`reload: the Worker was not running again after ${RELOAD_TIMEOUT_MS / 1000} s`)),
					RELOAD_TIMEOUT_MS,
				);
			});
			try {
				await worker.setConfig(input() as never);
				await reloaded;
			} finally {
				clearTimeout(timer);
				worker.raw.off("reloadComplete", onReloaded);
			}
		},
		async close() {
			await worker.dispose();
			await rm(persist, { recursive: true, force: true });
		},
	};
}
