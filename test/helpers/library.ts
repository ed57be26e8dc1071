// Drives a Worker built with the library (a Hono app or a fetch handler) inside workerd, with the test Worker's
// GAUGE binding, and reads its gauges.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { GaugeStatus } from "../../src/object/durable-object.ts";

type Fetch = (request: Request, env: Cloudflare.Env, ctx: ExecutionContext) => Response | Promise<Response>;

export interface Driven {
	/** Sends a request (path resolved against http://app.test) with a fresh ExecutionContext. */
	fetch(path: string, init?: RequestInit): Promise<Response>;
	/** Waits for everything handed to waitUntil (releases). */
	settle(): Promise<void>;
}

export function drive(handler: Fetch): Driven {
	const contexts: ExecutionContext[] = [];
	return {
		async fetch(path, init) {
			const ctx = createExecutionContext();
			contexts.push(ctx);
			return handler(new Request(new URL(path, "http://app.test"), init), env, ctx);
		},
		async settle() {
			while (contexts.length > 0) await Promise.all(contexts.splice(0).map((ctx) => waitOnExecutionContext(ctx)));
		},
	};
}

/** A gauge name of the test's own, so every test has Durable Objects of its own. */
export function uniqueName(prefix: string): string {
	return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The gauge's (unsharded) Durable Object status. */
export function gaugeStatus(name: string): Promise<GaugeStatus> {
	return env.GAUGE.getByName(`route:${name}`).status();
}

/**
 * The seed's load: `clients` clients each sending `each` requests one after another (hey -n 200 -c 50), counting
 * the statuses.
 */
export async function seedLoad(send: () => Promise<Response>, clients = 50, each = 4): Promise<Record<number, number>> {
	const statuses: Record<number, number> = {};
	await Promise.all(
		Array.from({ length: clients }, async () => {
			for (let i = 0; i < each; i++) {
				const res = await send();
				await res.arrayBuffer();
				statuses[res.status] = (statuses[res.status] ?? 0) + 1;
			}
		}),
	);
	return statuses;
}

/** Counts handlers running at once, from inside the handler. */
export class Concurrency {
	running = 0;
	peak = 0;
	async during<T>(work: () => Promise<T>): Promise<T> {
		this.running++;
		this.peak = Math.max(this.peak, this.running);
		try {
			return await work();
		} finally {
			this.running--;
		}
	}
}
