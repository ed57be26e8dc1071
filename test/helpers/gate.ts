// Drives the gate inside workerd with a config of the test's own, and reads the gauge and the origin.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { boundBody, request } from "../../dev/client.ts";
import type { OriginStats } from "../../dev/origin.ts";
import { TAG_HEADER } from "../../dev/origin.ts";
import worker from "../../src/gate/index.ts";
import type { Gauge, GaugeStatus } from "../../src/object/durable-object.ts";

export type Limits = Record<string, unknown>;

/**
 * Deadline of one request through the gate, body included: below vitest's 5 s test timeout, so a stuck
 * request fails its test with a message naming it rather than a bare timeout.
 */
export const REQUEST_TIMEOUT_MS = 4_000;

export interface Gate {
	/**
	 * Sends a request through the gate; the path is resolved against http://gate.test. The request's signal
	 * also fires at REQUEST_TIMEOUT_MS (as a client that gives up), and then the call or a body read still
	 * pending fails with an error naming the request.
	 */
	fetch(path: string, init?: RequestInit): Promise<Response>;
	/** Waits for everything the gate handed to waitUntil (release calls, best-effort releases). */
	settle(): Promise<void>;
	/** The route's Durable Object status. */
	status(route: string): Promise<GaugeStatus>;
	/** The route's Durable Object. */
	gauge(route: string): DurableObjectStub<Gauge>;
	/** The origin's counters for the requests this gate sent (or those it sent with `x-origin-tag: <sub>`). */
	origin(sub?: string): Promise<OriginStats>;
	/** The route names as the Worker sees them (with this gate's suffix). */
	routeNames(): string[];
	/** Shard `i` of a sharded route (shard 0 is `gauge(route)`). */
	shard(route: string, i: number): DurableObjectStub<Gauge>;
	/** Every shard's status, shard 0 first. */
	shardStatuses(route: string, shards: number): Promise<GaugeStatus[]>;
	/** What makes this gate's Durable Object names and origin counters its own. */
	readonly suffix: string;
}

export interface GateOptions {
	/** Share another gate's Durable Objects and origin counters: two configs side by side, as in a rollout. */
	sameObjectsAs?: Gate;
}

let gates = 0;

/**
 * A gate whose env carries `limits` as LIMITS. Route names get a unique suffix per gate so each test
 * has Durable Objects of its own; `status(name)` takes the name as written in `limits`.
 */
export function gate(limits: Limits, vars: Record<string, unknown> = {}, options: GateOptions = {}): Gate {
	const suffix = options.sameObjectsAs?.suffix ?? `-${++gates}-${crypto.randomUUID().slice(0, 8)}`;
	const tag = `t${suffix}`;
	const routes = (limits.routes as Limits[] | undefined)?.map((r) => ({ ...r, name: `${String(r.name)}${suffix}` }));
	const gateEnv = { ...env, ...vars, LIMITS: { ...limits, ...(routes ? { routes } : {}) } };
	const contexts: ExecutionContext[] = [];
	const originUrl = String(env.ORIGIN);
	return {
		async fetch(path, init = {}) {
			const ctx = createExecutionContext();
			contexts.push(ctx);
			const headers = new Headers(init.headers);
			const sub = headers.get(TAG_HEADER);
			headers.set(TAG_HEADER, sub === null ? tag : `${tag}, ${tag}/${sub}`);
			const deadline = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
			const signal = init.signal ? AbortSignal.any([deadline, init.signal]) : deadline;
			const started = Date.now();
			const stuck = (stage: string) => () =>
				new Error(
					`${init.method ?? "GET"} ${path} through the gate: no ${stage} after ${((Date.now() - started) / 1000).toFixed(1)} s (its deadline)`,
				);
			const answer = worker.fetch(new Request(new URL(path, "http://gate.test"), { ...init, headers, signal }), gateEnv, ctx);
			let onDeadline = (): void => undefined;
			const late = new Promise<never>((_, reject) => {
				onDeadline = () => reject(stuck("response")());
				deadline.addEventListener("abort", onDeadline, { once: true });
			});
			late.catch(() => undefined);
			try {
				return boundBody(await Promise.race([answer, late]), deadline, stuck("end of the body"));
			} finally {
				deadline.removeEventListener("abort", onDeadline);
			}
		},
		async settle() {
			await Promise.all(contexts.splice(0).map((ctx) => waitOnExecutionContext(ctx)));
		},
		gauge(route) {
			return env.GAUGE.getByName(`route:${route === "default" ? route : `${route}${suffix}`}`);
		},
		status(route) {
			return this.gauge(route).status();
		},
		routeNames: () => routes?.map((r) => String(r.name)) ?? [],
		shard(route, i) {
			return i === 0 ? this.gauge(route) : env.GAUGE.getByName(`route:${route}${suffix}#${i}`);
		},
		shardStatuses(route, shards) {
			return Promise.all(Array.from({ length: shards }, (_, i) => this.shard(route, i).status()));
		},
		suffix,
		async origin(sub) {
			const res = await request(`${originUrl}/__stats?tag=${encodeURIComponent(sub === undefined ? tag : `${tag}/${sub}`)}`, {
				timeoutMs: REQUEST_TIMEOUT_MS,
			});
			return JSON.parse(res.text) as OriginStats;
		},
	};
}

/** Polls until `check` passes or `timeoutMs` is over; for states reached through the origin's own timing. */
export async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
	const until = Date.now() + timeoutMs;
	for (;;) {
		try {
			await check();
			return;
		} catch (error) {
			if (Date.now() > until) throw error;
			await new Promise((r) => setTimeout(r, 20));
		}
	}
}

export async function expectInFlight(g: Gate, route: string, n: number): Promise<void> {
	expect((await g.status(route)).inFlight).toBe(n);
}
