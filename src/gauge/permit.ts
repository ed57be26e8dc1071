// The Worker's side of the gauge: ask a Durable Object for a permit, and give it back exactly once.
import type { ExchangeSample } from "../adaptive/sample.ts";
import type { AdaptiveSettings } from "../adaptive/settings.ts";
import { log, logSampled } from "../log.ts";
import type { Gauge } from "./durable-object.ts";
import type { Decision } from "./full-hints.ts";
import { fullHints } from "./full-hints.ts";
import type { AcquireRequest } from "./lease-table.ts";

export type ReleaseReason =
	| "delivered"
	| "no-body"
	| "client-cancelled"
	| "client-disconnected"
	| "origin-error"
	| "origin-timeout"
	| "worker-error"
	/** A later limit of the same request refused it. */
	| "refused-elsewhere";

/** One Durable Object's count and how a request asks it: the route's total or a key's share. */
export interface GaugeSpec {
	/** The Durable Object's name: `route:<name>` or `key:<name>:<hash>`. */
	readonly objectName: string;
	/** The policy name in RateLimit headers and logs. */
	readonly policy: string;
	/** The policy's quota in RateLimit headers: the route's total even when this object holds a shard of it. */
	readonly quota: number;
	/** Permits this object holds. */
	readonly limit: number;
	readonly maxHoldMs: number;
	readonly queue: AcquireRequest["queue"] | null;
	readonly dryRun: boolean;
	/** On the route's gauge: the key's object name, so the route can tell its busiest keys. */
	readonly holder?: string;
	/** On an adaptive route's gauge: the object learns its limit, and each release carries a sample. */
	readonly adaptive?: AdaptiveSettings;
}

export type PermitResult =
	| { readonly kind: "granted"; readonly permit: Permit; readonly inFlight: number; readonly limit: number }
	| {
			readonly kind: "refused";
			readonly retryAfterMs: number;
			readonly inFlight: number;
			readonly limit: number;
			/** Refused from this isolate's hint that the gauge is full, without a Durable Object call. */
			readonly local: boolean;
	  }
	/** The Durable Object could not answer; whether it granted the lease is unknown. */
	| { readonly kind: "unavailable"; readonly error: unknown };

type Stub = DurableObjectStub<Gauge>;

/** Keeps a promise alive after the response is returned (ExecutionContext.waitUntil). */
export type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Asks the spec's Durable Object for a permit. If the client goes away while the request waits in the
 * object's queue, the wait is cancelled (and a permit granted meanwhile given back).
 */
export async function acquirePermit(
	ns: DurableObjectNamespace<Gauge>,
	spec: GaugeSpec,
	waitUntil: WaitUntil,
	clientGone: AbortSignal,
): Promise<PermitResult> {
	// Requests that would wait (queue) or be admitted anyway (dry-run) must reach the object.
	const hinted = !spec.queue && !spec.dryRun;
	const decision: Decision = hinted ? fullHints.check(spec.objectName, Date.now()) : { probe: false };
	if ("refuse" in decision) {
		const { limit, freeAt } = decision.refuse;
		return { kind: "refused", retryAfterMs: Math.max(0, freeAt - Date.now()), inFlight: limit, limit, local: true };
	}
	const probe = decision.probe;
	const stub = ns.getByName(spec.objectName);
	const leaseId = crypto.randomUUID();
	const request: AcquireRequest = {
		leaseId,
		limit: spec.limit,
		maxHoldMs: spec.maxHoldMs,
		...(spec.queue ? { queue: spec.queue } : {}),
		...(spec.dryRun ? { dryRun: true } : {}),
		...(spec.holder ? { holder: spec.holder } : {}),
		...(spec.adaptive ? { adaptive: spec.adaptive } : {}),
	};
	const onGone = (): void => waitUntil(stub.cancel(leaseId, spec.maxHoldMs).catch(() => undefined));
	if (spec.queue) clientGone.addEventListener("abort", onGone, { once: true });
	try {
		const result = await stub.acquire(request);
		if (hinted) {
			fullHints.answered(spec.objectName, Date.now(), probe, {
				granted: result.ok,
				full: !result.ok && result.reason === "full",
				limit: result.limit,
				inFlight: result.inFlight,
				retryAfterMs: result.ok ? 0 : result.retryAfterMs,
			});
		}
		if (result.ok) {
			return { kind: "granted", permit: new Permit(stub, leaseId, spec, waitUntil), inFlight: result.inFlight, limit: result.limit };
		}
		return { kind: "refused", retryAfterMs: result.retryAfterMs, inFlight: result.inFlight, limit: result.limit, local: false };
	} catch (error) {
		// The RPC may have failed after the object granted the lease. Release it on a best-effort basis
		// (a tombstone if it never ran); its expiry is the backstop. Overloaded objects are not retried.
		if (probe) fullHints.probeFailed(spec.objectName);
		logSampled("gauge_unavailable", spec.objectName, { gauge: spec.objectName, error: String(error), overloaded: isOverloaded(error) });
		if (!isOverloaded(error)) waitUntil(stub.release(leaseId, spec.maxHoldMs).catch(() => undefined));
		return { kind: "unavailable", error };
	} finally {
		clientGone.removeEventListener("abort", onGone);
	}
}

/**
 * Tries the alternatives for one limit in turn (a sharded route's shards) and stops at the first grant.
 * Otherwise returns the last answer: a refusal or an unavailable object.
 */
export async function acquireFirst(
	ns: DurableObjectNamespace<Gauge>,
	alternatives: readonly GaugeSpec[],
	waitUntil: WaitUntil,
	clientGone: AbortSignal,
): Promise<{ spec: GaugeSpec; result: PermitResult }> {
	let last: { spec: GaugeSpec; result: PermitResult } | null = null;
	for (const spec of alternatives) {
		last = { spec, result: await acquirePermit(ns, spec, waitUntil, clientGone) };
		if (last.result.kind === "granted") return last;
	}
	if (!last) throw new Error("acquireFirst needs at least one gauge");
	return last;
}

function isOverloaded(error: unknown): boolean {
	return typeof error === "object" && error !== null && (error as { overloaded?: unknown }).overloaded === true;
}

/** Something that gives permits back: release is idempotent, only the first call counts. */
export interface Releasable {
	release(reason: ReleaseReason): Promise<void>;
	/** Why it was given back, once it has been. */
	readonly reason: ReleaseReason | null;
}

/** A granted lease. `release` is idempotent: only the first call reaches the Durable Object. */
export class Permit implements Releasable {
	readonly leaseId: string;
	reason: ReleaseReason | null = null;
	private released: Promise<void> | null = null;
	private readonly stub: Stub;
	private readonly spec: GaugeSpec;
	private readonly waitUntil: WaitUntil;

	constructor(stub: Stub, leaseId: string, spec: GaugeSpec, waitUntil: WaitUntil) {
		this.stub = stub;
		this.leaseId = leaseId;
		this.spec = spec;
		this.waitUntil = waitUntil;
	}

	/** `sample` (how the exchange with the origin went) reaches only an adaptive route's object. */
	release(reason: ReleaseReason, sample?: ExchangeSample | null): Promise<void> {
		if (this.released) return this.released;
		this.reason = reason;
		const learn = this.spec.adaptive && sample ? sample : undefined;
		this.released = this.stub.release(this.leaseId, this.spec.maxHoldMs, learn).then(
			// Once the object has it back, the permit is free for this isolate's next request.
			() => fullHints.freed(this.spec.objectName, Date.now()),
			(error: unknown) => log("release_failed", { gauge: this.spec.objectName, reason, error: String(error) }),
		);
		this.waitUntil(this.released);
		return this.released;
	}
}

/** The permits one request holds (its key's and its route's), given back together, once. */
export class PermitGroup implements Releasable {
	reason: ReleaseReason | null = null;
	private readonly permits: Permit[] = [];
	private released: Promise<void> | null = null;

	add(permit: Permit): void {
		this.permits.push(permit);
	}

	release(reason: ReleaseReason, sample?: ExchangeSample | null): Promise<void> {
		if (this.released) return this.released;
		this.reason = reason;
		this.released = Promise.all(this.permits.map((p) => p.release(reason, sample))).then(() => undefined);
		return this.released;
	}
}
