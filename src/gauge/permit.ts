// The Worker's side of the gauge: ask a route's Durable Object for a permit, and give it back exactly once.
import type { Route } from "../config/parse.ts";
import { log, logSampled } from "../log.ts";
import type { Gauge } from "./durable-object.ts";

export type ReleaseReason =
	| "delivered"
	| "no-body"
	| "client-cancelled"
	| "client-disconnected"
	| "origin-error"
	| "origin-timeout"
	| "worker-error";

export type PermitResult =
	| { readonly kind: "granted"; readonly permit: Permit; readonly inFlight: number; readonly limit: number }
	| { readonly kind: "refused"; readonly retryAfterMs: number; readonly inFlight: number; readonly limit: number }
	/** The Durable Object could not answer; whether it granted the lease is unknown. */
	| { readonly kind: "unavailable"; readonly error: unknown };

type Stub = DurableObjectStub<Gauge>;

/** Keeps a promise alive after the response is returned (ExecutionContext.waitUntil). */
export type WaitUntil = (promise: Promise<unknown>) => void;

export function gaugeFor(ns: DurableObjectNamespace<Gauge>, route: Route): Stub {
	return ns.getByName(`route:${route.name}`);
}

export async function acquirePermit(stub: Stub, route: Route, waitUntil: WaitUntil): Promise<PermitResult> {
	const leaseId = crypto.randomUUID();
	try {
		const result = await stub.acquire({ leaseId, limit: route.limit, maxHoldMs: route.maxHoldMs });
		if (result.ok) {
			return { kind: "granted", permit: new Permit(stub, leaseId, route, waitUntil), inFlight: result.inFlight, limit: result.limit };
		}
		return { kind: "refused", retryAfterMs: result.retryAfterMs, inFlight: result.inFlight, limit: result.limit };
	} catch (error) {
		// The RPC may have failed after the object granted the lease. Release it on a best-effort basis
		// (a tombstone if it never ran); its expiry is the backstop. Overloaded objects are not retried.
		logSampled("gauge_unavailable", route.name, { route: route.name, error: String(error), overloaded: isOverloaded(error) });
		if (!isOverloaded(error)) {
			waitUntil(stub.release(leaseId, route.maxHoldMs).catch(() => undefined));
		}
		return { kind: "unavailable", error };
	}
}

function isOverloaded(error: unknown): boolean {
	return typeof error === "object" && error !== null && (error as { overloaded?: unknown }).overloaded === true;
}

/** A granted lease. `release` is idempotent: only the first call reaches the Durable Object. */
export class Permit {
	private released: Promise<void> | null = null;
	/** Why the permit was given back, once it has been. */
	reason: ReleaseReason | null = null;

	readonly leaseId: string;
	private readonly stub: Stub;
	private readonly route: Route;
	private readonly waitUntil: WaitUntil;

	constructor(stub: Stub, leaseId: string, route: Route, waitUntil: WaitUntil) {
		this.stub = stub;
		this.leaseId = leaseId;
		this.route = route;
		this.waitUntil = waitUntil;
	}

	release(reason: ReleaseReason): Promise<void> {
		if (this.released) return this.released;
		this.reason = reason;
		this.released = this.stub.release(this.leaseId, this.route.maxHoldMs).then(
			() => undefined,
			(error: unknown) => log("release_failed", { route: this.route.name, reason, error: String(error) }),
		);
		this.waitUntil(this.released);
		return this.released;
	}
}
