// Starts the gate on wrangler's local runtime (workerd, as `wrangler dev` runs it) with a config of the caller's.
import { createTestHarness } from "wrangler";

export interface LocalGate {
	readonly url: string;
	/** Live (unexpired, unreleased) leases in a route's Durable Object, read from its SQLite storage. */
	inFlight(route: string): Promise<number>;
	/** Evicts a route's Durable Object: its memory is lost, its storage kept (as in a reset or deploy). */
	evict(route: string): Promise<void>;
	close(): Promise<void>;
}

export interface LocalGateOptions {
	/** The LIMITS var (replaces the one in wrangler.toml). */
	limits?: unknown;
	/** The ORIGIN var. */
	origin?: string;
	/** Another wrangler config, e.g. a bare pass-through Worker for the benchmark's baseline. */
	configPath?: string;
}

export async function startGate(options: LocalGateOptions = {}): Promise<LocalGate> {
	// A JSON round trip gives the harness the plain JSON values its vars take.
	const vars = JSON.parse(JSON.stringify({ LIMITS: options.limits, ORIGIN: options.origin }));
	const server = createTestHarness({
		workers: [{ configPath: options.configPath ?? "wrangler.toml", vars }],
	});
	const { url } = await server.listen();
	return {
		url: url.origin,
		async inFlight(route) {
			const sql = await server.getWorker().getDurableObjectStorage("GAUGE", { name: `route:${route}` });
			const rows = (await sql.exec("SELECT COUNT(*) AS n FROM leases WHERE released = 0 AND expires_at > ?", Date.now())) as {
				n: number;
			}[];
			return rows[0]?.n ?? 0;
		},
		evict: (route) => server.getWorker().evictDurableObject("GAUGE", { name: `route:${route}` }),
		close: () => server.close(),
	};
}
