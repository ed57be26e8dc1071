// The gate as the benchmark runs it for blocks: every call to a Durable Object is counted and, with
// DELAY_MS set, delayed as a far data centre would delay it. Bench only, never deployed, never in src/.
import worker from "../../src/gate/index.ts";

export { Gauge } from "../../src/gate/index.ts";

/** Calls the Worker made to objects, by method, in this isolate (GET /__bench/calls; DELETE resets). */
const calls = new Map<string, number>();
const COUNTED = new Set(["acquire", "release", "renew", "cancel", "checkIn", "report"]);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function wrap<T extends object>(ns: T, delayMs: number): T {
	return new Proxy(ns, {
		get(target, prop) {
			const getByName = Reflect.get(target, prop);
			if (prop !== "getByName" || typeof getByName !== "function") return getByName;
			return (name: string, options?: DurableObjectNamespaceGetDurableObjectOptions) => {
				const stub = Reflect.apply(getByName, target, [name, options]) as object;
				return new Proxy(stub, {
					get(s, method) {
						const value = Reflect.get(s, method);
						if (typeof method !== "string" || !COUNTED.has(method) || typeof value !== "function") return value;
						return async (...args: unknown[]) => {
							calls.set(method, (calls.get(method) ?? 0) + 1);
							// Half the delay each way: the call reaches the object late, and its answer comes back late.
							if (delayMs > 0) await sleep(delayMs / 2);
							const result = await Reflect.apply(value, s, args);
							if (delayMs > 0) await sleep(delayMs / 2);
							return result;
						};
					},
				});
			};
		},
	});
}

export default {
	async fetch(request: Request, env: Cloudflare.Env & { DELAY_MS?: string }, ctx: ExecutionContext): Promise<Response> {
		const url = new URL(request.url);
		if (url.pathname === "/__bench/calls") {
			if (request.method === "DELETE") calls.clear();
			return Response.json(Object.fromEntries(calls));
		}
		const delayMs = Number(env.DELAY_MS ?? 0);
		return worker.fetch(request, { ...env, GAUGE: wrap(env.GAUGE, delayMs) }, ctx);
	},
};
