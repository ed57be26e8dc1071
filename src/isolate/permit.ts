// The Worker's side of the gauge: ask a Durable Object for a permit, and give it back exactly once.
import type { ExchangeSample } from "../adaptive/sample.ts";
import type { GaugeRpc } from "../gauge-rpc.ts";
import { log, logSampled } from "../log.ts";
import type { AcquireRequest } from "../protocol.ts";
import { MAX_RELEASING } from "../protocol.ts";
import { acquireFromBlock, poolFor } from "./blocks.ts";
import { consultHint, freedFor, fullHints, hintBase, hintKey } from "./full-hints.ts";
import type { GaugeSpec, PermitResult, ReleaseReason, Renewable, RenewOutcome, WaitUntil } from "./permit-types.ts";
import { graceMsFor } from "./permit-types.ts";
import { gaugeStub } from "./stub.ts";

type Stub = DurableObjectStub<GaugeRpc>;

/**
 * Asks the spec's Durable Object for a permit. If the client goes away while the request waits in the
 * object's queue, the wait is cancelled (and a permit granted meanwhile given back); a client already gone
 * asks nothing. A tentative ask (another shard follows) never waits and is not counted if refused.
 */
export async function acquirePermit(
	ns: DurableObjectNamespace<GaugeRpc>,
	spec: GaugeSpec,
	waitUntil: WaitUntil,
	clientGone: AbortSignal,
	tentative = false,
	single = false,
): Promise<PermitResult> {
	if (clientGone.aborted) return { kind: "cancelled" };
	if (spec.blocks && !single) {
		// Permits this isolate already holds come first: a "full" hint may well be about them.
		const fromBlock = await acquireFromBlock(ns, spec, waitUntil, tentative);
		if (fromBlock) return fromBlock;
	}
	// Requests that would wait (queue) or be admitted anyway (dry-run) must reach the object.
	const { hinted, decision } = consultHint(spec, Date.now());
	if ("refuse" in decision) return decision.refuse;
	const probe = decision.probe;
	const stub = gaugeStub(ns, spec.objectName, spec.locationHint);
	const leaseId = crypto.randomUUID();
	// A request whose isolate holds a block (its block was full) names the pool: its refusal is no pressure on it.
	const pool = spec.blocks ? poolFor(spec) : null;
	const request: AcquireRequest = {
		leaseId,
		limit: spec.limit,
		maxHoldMs: spec.maxHoldMs,
		...(spec.queue ? { queue: spec.queue } : {}),
		...(spec.dryRun ? { dryRun: true } : {}),
		...(spec.holder ? { holder: spec.holder } : {}),
		...(spec.fair ? { fair: true } : {}),
		...(spec.priority ? { priority: spec.priority } : {}),
		...(spec.shard ? { shard: spec.shard } : {}),
		...(tentative ? { tentative: true } : {}),
		...(spec.adaptive ? { adaptive: spec.adaptive } : {}),
		...(pool ? { isolate: pool.id } : {}),
		...releasingFor(spec.objectName),
	};
	const onGone = (): void => waitUntil(stub.cancel(leaseId, spec.maxHoldMs).catch(() => undefined));
	if (spec.queue && !tentative) clientGone.addEventListener("abort", onGone, { once: true });
	const askedAt = Date.now();
	try {
		const result = await stub.acquire(request);
		if (hinted) {
			const reason = result.ok ? null : result.reason;
			fullHints.answered(
				hintKey(spec),
				Date.now(),
				probe,
				{
					granted: result.ok,
					full: reason === "full" || reason === "over-share" || reason === "class-full",
					scope: reason === "over-share" ? "key" : reason === "class-full" ? "class" : "full",
					limit: result.limit,
					quota: result.quota,
					inFlight: result.inFlight,
					retryAfterMs: result.ok ? 0 : result.retryAfterMs,
					...(result.line ? { line: result.line } : {}),
				},
				hintBase(spec),
			);
		}
		const { inFlight, limit, quota } = result;
		if (result.ok) return { kind: "granted", permit: new Permit(stub, leaseId, spec, waitUntil, askedAt), inFlight, limit, quota };
		const overShare = result.reason === "over-share";
		return {
			kind: "refused",
			retryAfterMs: result.retryAfterMs,
			inFlight,
			limit,
			quota,
			local: false,
			...(overShare ? { overShare } : {}),
			...(result.reason === "class-full" ? { classFull: true } : {}),
		};
	} catch (error) {
		// The RPC may have failed after the object granted the lease. Release it on a best-effort basis
		// (a tombstone if it never ran); its expiry is the backstop. Overloaded objects are not retried.
		if (probe) fullHints.probeFailed(hintKey(spec));
		logSampled("gauge_unavailable", spec.objectName, { gauge: spec.objectName, error: String(error), overloaded: isOverloaded(error) });
		if (!isOverloaded(error)) waitUntil(stub.release(leaseId, spec.maxHoldMs).catch(() => undefined));
		return { kind: "unavailable", error };
	} finally {
		clientGone.removeEventListener("abort", onGone);
	}
}

/**
 * Tries the alternatives for one limit in turn (a sharded route's shards) and stops at the first grant.
 * Otherwise returns the last answer: a refusal or an unavailable object. Every try but the last is tentative:
 * a request waits (in a queue) only at its last try, so at most once, and a refusal is counted once.
 */
export async function acquireFirst(
	ns: DurableObjectNamespace<GaugeRpc>,
	alternatives: readonly GaugeSpec[],
	waitUntil: WaitUntil,
	clientGone: AbortSignal,
	single = false,
): Promise<{ spec: GaugeSpec; result: PermitResult }> {
	let last: { spec: GaugeSpec; result: PermitResult } | null = null;
	for (const [i, spec] of alternatives.entries()) {
		last = { spec, result: await acquirePermit(ns, spec, waitUntil, clientGone, i < alternatives.length - 1, single) };
		if (last.result.kind === "granted" || last.result.kind === "cancelled") return last;
	}
	if (!last) throw new Error("acquireFirst needs at least one gauge");
	return last;
}

function isOverloaded(error: unknown): boolean {
	return typeof error === "object" && error !== null && (error as { overloaded?: unknown }).overloaded === true;
}

/**
 * Per object: leases this isolate released (no grace, no sample) whose release call is not answered yet. The next
 * acquire to the object carries them (AcquireRequest.releasing), so it can never overtake them; each goes on one
 * acquire only (that acquire or the release call, whichever lands first, releases it). Plain data only.
 */
const releasing = new Map<string, Set<string>>();

function releasingFor(objectName: string): { releasing?: string[] } {
	const ids = releasing.get(objectName);
	if (!ids || ids.size === 0) return {};
	releasing.delete(objectName);
	return { releasing: [...ids].slice(0, MAX_RELEASING) };
}

/** Objects with pending releases remembered at most (a release whose call never settles must not pin memory). */
const MAX_RELEASING_OBJECTS = 1_024;

function noteReleasing(objectName: string, leaseId: string, pending: boolean): void {
	if (pending && !releasing.has(objectName) && releasing.size >= MAX_RELEASING_OBJECTS) {
		const oldest = releasing.keys().next().value;
		if (oldest !== undefined) releasing.delete(oldest);
	}
	const ids = releasing.get(objectName) ?? new Set<string>();
	if (pending && ids.size < MAX_RELEASING) ids.add(leaseId);
	if (!pending) ids.delete(leaseId);
	if (ids.size > 0) releasing.set(objectName, ids);
	else releasing.delete(objectName);
}

/** A granted lease. `release` is idempotent: only the first call reaches the Durable Object. */
export class Permit implements Renewable {
	readonly leaseId: string;
	reason: ReleaseReason | null = null;
	/** When the last successful acquire or renew was sent: the object set the lease's expiry after that. */
	private leaseFrom: number;
	private released: Promise<void> | null = null;
	private readonly stub: Stub;
	private readonly spec: GaugeSpec;
	private readonly waitUntil: WaitUntil;

	constructor(stub: Stub, leaseId: string, spec: GaugeSpec, waitUntil: WaitUntil, askedAt = Date.now()) {
		this.stub = stub;
		this.leaseId = leaseId;
		this.spec = spec;
		this.waitUntil = waitUntil;
		this.leaseFrom = askedAt;
	}

	get expiresBy(): number {
		return this.leaseFrom + this.spec.maxHoldMs;
	}

	async renew(): Promise<RenewOutcome> {
		if (this.released) return "lost";
		const askedAt = Date.now();
		try {
			if (!(await this.stub.renew(this.leaseId, this.spec.maxHoldMs, this.spec.shard ?? null))) return "lost";
			this.leaseFrom = askedAt;
			return "renewed";
		} catch (error) {
			logSampled("gauge_unavailable", this.spec.objectName, { gauge: this.spec.objectName, during: "renew", error: String(error) });
			return "unavailable";
		}
	}

	/** `sample` (how the exchange with the origin went) reaches only an adaptive route's object. */
	release(reason: ReleaseReason, sample?: ExchangeSample | null): Promise<void> {
		if (this.released) return this.released;
		this.reason = reason;
		const graceMs = graceMsFor(reason, this.spec);
		const learn = this.spec.adaptive && sample ? sample : undefined;
		// A plain release may ride on this isolate's next acquire to the object too (whichever lands first counts).
		const plain = graceMs === 0 && !this.spec.adaptive;
		if (plain) noteReleasing(this.spec.objectName, this.leaseId, true);
		this.released = this.stub
			.release(this.leaseId, this.spec.maxHoldMs, graceMs, learn)
			.finally(() => {
				if (plain) noteReleasing(this.spec.objectName, this.leaseId, false);
			})
			.then(
				// Once the object has it back, the permit is free for this isolate's next request (not yet, with a grace).
				() => (graceMs === 0 ? freedFor(this.spec, Date.now()) : undefined),
				(error: unknown) => log("release_failed", { gauge: this.spec.objectName, reason, error: String(error) }),
			);
		this.waitUntil(this.released);
		return this.released;
	}
}

/** The permits one request holds (its key's and its route's), given back together, once. */
export class PermitGroup implements Renewable {
	reason: ReleaseReason | null = null;
	private readonly permits: Renewable[] = [];
	private released: Promise<void> | null = null;

	add(permit: Renewable): void {
		this.permits.push(permit);
	}

	get size(): number {
		return this.permits.length;
	}

	get expiresBy(): number {
		return Math.min(...this.permits.map((p) => p.expiresBy));
	}

	async renew(): Promise<RenewOutcome> {
		const outcomes = await Promise.all(this.permits.map((p) => p.renew()));
		return outcomes.includes("lost") ? "lost" : outcomes.includes("unavailable") ? "unavailable" : "renewed";
	}

	release(reason: ReleaseReason, sample?: ExchangeSample | null): Promise<void> {
		if (this.released) return this.released;
		this.reason = reason;
		this.released = Promise.all(this.permits.map((p) => p.release(reason, sample))).then(() => undefined);
		return this.released;
	}
}
