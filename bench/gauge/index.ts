// The gauge object alone: acquire+release pairs per second, with durable (SQLite) leases and, as the
// baseline in the same run, leases in memory and a call that does nothing. Never deployed.
import { DurableObject } from "cloudflare:workers";
import { Gauge } from "../../src/object/durable-object.ts";
import type { LeaseStore } from "../../src/object/lease-store.ts";
import { MemoryLeaseStore } from "../../src/object/lease-store.ts";

export { Gauge };

/** The same object with leases in a Map: what durability costs is the difference. */
export class MemoryGauge extends Gauge {
	protected override createStore(): LeaseStore {
		return new MemoryLeaseStore();
	}
}

/** An object whose calls do nothing: what the call itself costs. */
export class NoopObject extends DurableObject {
	acquire(): { ok: true } {
		return { ok: true };
	}
	release(): boolean {
		return true;
	}
}

interface Env {
	DURABLE: DurableObjectNamespace<Gauge>;
	MEMORY: DurableObjectNamespace<MemoryGauge>;
	NOOP: DurableObjectNamespace<NoopObject>;
}

const HOLD_MS = 60_000;

export default {
	/** GET /pairs?kind=durable|memory|noop&n=2000&concurrency=8 → { pairs, ms, pairsPerSecond } */
	async fetch(request: Request, env: Env): Promise<Response> {
		const url = new URL(request.url);
		const kind = url.searchParams.get("kind") ?? "durable";
		const n = Number(url.searchParams.get("n") ?? 1000);
		const concurrency = Number(url.searchParams.get("concurrency") ?? 1);
		const ns = kind === "memory" ? env.MEMORY : kind === "noop" ? env.NOOP : env.DURABLE;
		const stub = (ns as DurableObjectNamespace<Gauge>).getByName(`bench-${crypto.randomUUID()}`);
		let next = 0;
		const start = performance.now();
		await Promise.all(
			Array.from({ length: concurrency }, async () => {
				while (next++ < n) {
					const leaseId = crypto.randomUUID();
					await stub.acquire({ leaseId, limit: concurrency, maxHoldMs: HOLD_MS });
					await stub.release(leaseId, HOLD_MS);
				}
			}),
		);
		// Date and performance.now only advance on I/O in Workers; the calls above are I/O, so this is real.
		const ms = performance.now() - start;
		return Response.json({ kind, pairs: n, concurrency, ms, pairsPerSecond: (n / ms) * 1000 });
	},
};
