// The Worker's side of blocks: admit from this isolate's pool when it can, check in with the gauge's object when
// it must (pool dry, spares held too long, window running out, idle), all from the current request's context.

import type { GaugeRpc } from "../gauge-rpc.ts";
import { log, logSampled } from "../log.ts";
import type { Block, Held, Plan } from "./block-pool.ts";
import { BlockPool, STALE_CHECK_IN_MS } from "./block-pool.ts";
import { consultHint, fullHints, hintKey } from "./full-hints.ts";
import type { GaugeSpec, PermitResult, ReleaseReason, Renewable, RenewOutcome, WaitUntil } from "./permit-types.ts";
import { graceMsFor } from "./permit-types.ts";
import { gaugeStub } from "./stub.ts";

/** How often a request waiting for another's check-in looks at the pool again. */
const POLL_MS = 2;

/** One pool per gauge (Durable Object name) in this isolate; the state is plain data (block-pool.ts). */
const pools = new Map<string, BlockPool>();

export function poolFor(spec: GaugeSpec): BlockPool | null {
	const settings = spec.blocks;
	if (!settings) return null;
	let pool = pools.get(spec.objectName);
	if (!pool) {
		pool = new BlockPool(settings);
		pools.set(spec.objectName, pool);
	}
	return pool;
}

type Stub = DurableObjectStub<GaugeRpc>;
/**
 * The object's stub, made on first use within this request: most admissions never call the object, and making a
 * stub hashes the name. (Not kept across requests: a stub belongs to the request that made it.)
 */
type StubRef = () => Stub;

/**
 * A permit from this isolate's block for the spec's gauge, growing the block with one check-in when the pool
 * is dry. Null: ask the object for a single permit as without blocks (a check-in is already in flight, or the
 * request may queue and the block could not grow).
 */
export async function acquireFromBlock(
	ns: DurableObjectNamespace<GaugeRpc>,
	spec: GaugeSpec,
	waitUntil: WaitUntil,
	tentative = false,
): Promise<PermitResult | null> {
	const pool = poolFor(spec);
	if (!pool) return null;
	const stub = stubRef(ns, spec);
	const now = Date.now();
	pool.sweep(now);
	handBackRetired(stub, spec, pool, waitUntil);
	const block = pool.take(now);
	if (block) {
		if (pool.checkInDue(now)) waitUntil(checkIn(stub, spec, pool, waitUntil));
		return granted(stub, spec, pool, block, now, waitUntil);
	}
	pool.noteDry(now);
	// Dry: the isolate's "full" hint may refuse without a call, exactly as for single permits.
	const { hinted, decision } = consultHint(spec, now);
	if ("refuse" in decision) return decision.refuse;
	let plan = pool.plan(now, spec, { need: true, tentative });
	if (!plan && pool.checkInSince !== null) {
		// Another request's check-in is under way: wait for it to land (reading plain data, never its promise),
		// then take from what it brought, or check in for more.
		pool.misses++;
		const until = now + STALE_CHECK_IN_MS;
		while (pool.checkInSince !== null && Date.now() < until) await sleep(POLL_MS);
		const after = pool.take(Date.now());
		if (after) {
			// This request asked the object nothing: the probe slot it claimed is free for the next one.
			if (decision.probe) fullHints.probeFailed(hintKey(spec));
			return granted(stub, spec, pool, after, Date.now(), waitUntil);
		}
		plan = pool.plan(Date.now(), spec, { need: true, tentative });
	}
	// A check-in given up as stale retired its block: hand it back if nothing is in use under it.
	handBackRetired(stub, spec, pool, waitUntil);
	if (!plan) {
		if (decision.probe) fullHints.probeFailed(hintKey(spec));
		return null;
	}
	let answer: Awaited<ReturnType<Stub["checkIn"]>>;
	try {
		answer = await stub().checkIn(plan.msg);
	} catch (error) {
		if (decision.probe) fullHints.probeFailed(hintKey(spec));
		pool.failed(plan);
		handBackRetired(stub, spec, pool, waitUntil);
		logSampled("gauge_unavailable", spec.objectName, { gauge: spec.objectName, during: "check-in", error: String(error) });
		return { kind: "unavailable", error };
	}
	pool.answered(plan, answer);
	const at = Date.now();
	// The object's refusal stands (it counted it): a permit of this pool that freed meanwhile serves the next request.
	const mine = answer.refused ? null : pool.take(at);
	if (hinted)
		fullHints.answered(hintKey(spec), at, decision.probe, {
			granted: mine !== null,
			full: mine === null,
			limit: answer.limit,
			quota: answer.quota,
			inFlight: answer.inFlight,
			retryAfterMs: answer.retryAfterMs,
		});
	if (pool.pressure && pool.spares > 0) waitUntil(checkIn(stub, spec, pool, waitUntil));
	if (mine) return granted(stub, spec, pool, mine, at, waitUntil);
	// A queued request waits in the object's FIFO; its check-in counted no refusal (need is false for it).
	if (spec.queue) return null;
	return {
		kind: "refused",
		retryAfterMs: answer.retryAfterMs,
		inFlight: answer.inFlight,
		limit: answer.limit,
		quota: answer.quota,
		local: false,
	};
}

function stubRef(ns: DurableObjectNamespace<GaugeRpc>, spec: GaugeSpec): StubRef {
	let stub: Stub | null = null;
	return () => {
		stub ??= gaugeStub(ns, spec.objectName, spec.locationHint);
		return stub;
	};
}

function granted(stub: StubRef, spec: GaugeSpec, pool: BlockPool, block: Block, now: number, waitUntil: WaitUntil): PermitResult {
	const permit = new BlockPermit(stub, spec, pool, block, now, waitUntil);
	// The live count is the object's: what it had free at the last check-in, plus this pool's spares, is free now
	// as far as this isolate knows (a lower bound for RateLimit's r).
	const { limit, quota, objectFree } = pool.known;
	return { kind: "granted", permit, inFlight: Math.max(0, limit - objectFree - pool.spares), limit, quota };
}

/** A background check-in (renew, return spares, report): never throws, never blocks a request. */
async function checkIn(stub: StubRef, spec: GaugeSpec, pool: BlockPool, waitUntil: WaitUntil): Promise<void> {
	const plan: Plan | null = pool.plan(Date.now(), spec, { need: false });
	handBackRetired(stub, spec, pool, waitUntil);
	if (!plan) return;
	try {
		pool.answered(plan, await stub().checkIn(plan.msg));
	} catch (error) {
		// Best effort, like a failed single acquire's release: the lease's expiry is the backstop.
		pool.failed(plan);
		logSampled("gauge_unavailable", spec.objectName, { gauge: spec.objectName, during: "check-in", error: String(error) });
	}
	handBackRetired(stub, spec, pool, waitUntil);
}

/**
 * Hands back every retired block that emptied (a check-in asking for nothing, carrying the pool's report), or
 * sends the report alone when no call will carry it. A failed call puts its report back for the next one; the
 * block's lease ends by itself.
 */
function handBackRetired(stub: StubRef, spec: GaugeSpec, pool: BlockPool, waitUntil: WaitUntil): void {
	for (const { msg } of pool.returns(spec)) {
		waitUntil(
			stub()
				.checkIn(msg)
				.catch((error: unknown) => {
					pool.requeue(msg.report);
					log("release_failed", { gauge: spec.objectName, block: true, error: String(error) });
				}),
		);
	}
	if (!pool.reportDue()) return;
	const report = pool.takeReport();
	if (report)
		waitUntil(
			Promise.resolve()
				.then(() => stub().report(report))
				.catch(() => pool.requeue(report)),
		);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A permit taken from a block: given back to the pool (no object call), at most once. */
export class BlockPermit implements Renewable {
	reason: ReleaseReason | null = null;
	private readonly stub: StubRef;
	private readonly spec: GaugeSpec;
	private readonly pool: BlockPool;
	private readonly block: Block;
	private readonly held: Held;
	private readonly waitUntil: WaitUntil;

	constructor(stub: StubRef, spec: GaugeSpec, pool: BlockPool, block: Block, admittedAt: number, waitUntil: WaitUntil) {
		this.stub = stub;
		this.spec = spec;
		this.pool = pool;
		this.block = block;
		this.held = pool.hold(block, admittedAt, spec.maxHoldMs);
		this.waitUntil = waitUntil;
	}

	/** The block's lease outlives every request admitted while its window was open. */
	get expiresBy(): number {
		return this.block.admitUntil + this.spec.maxHoldMs;
	}

	/** A long exchange (a held WebSocket) keeps its block's lease alive by checking in. */
	async renew(): Promise<RenewOutcome> {
		if (this.reason) return "lost";
		if (this.pool.current !== this.block) return "lost";
		await checkIn(this.stub, this.spec, this.pool, this.waitUntil);
		return this.pool.current === this.block ? "renewed" : "lost";
	}

	release(reason: ReleaseReason): Promise<void> {
		if (this.reason) return Promise.resolve();
		this.reason = reason;
		const now = Date.now();
		// A cut exchange's permit stays in use for the route's cutRelease grace (never past the block's lease):
		// the pool's own data says until when, so no timer has to fire for it to come back.
		const graceMs = Math.min(graceMsFor(reason, this.spec), Math.max(0, this.expiresBy - now));
		this.pool.end(this.held, now, graceMs);
		if (graceMs > 0) {
			this.waitUntil(sleep(graceMs).then(() => this.afterUse(Date.now())));
			return Promise.resolve();
		}
		this.afterUse(now);
		return Promise.resolve();
	}

	/** Check in when due; the last request to use the pool hands its spares back if no other comes within returnAfterMs. */
	private afterUse(now: number): void {
		this.pool.sweep(now);
		handBackRetired(this.stub, this.spec, this.pool, this.waitUntil);
		if (this.pool.checkInDue(now)) this.waitUntil(checkIn(this.stub, this.spec, this.pool, this.waitUntil));
		// From this request's own waitUntil: an isolate with no request runs no code.
		if (this.pool.inUse === 0) this.waitUntil(this.handBackWhenIdle());
	}

	private async handBackWhenIdle(): Promise<void> {
		await sleep(this.spec.blocks?.returnAfterMs ?? 0);
		// A check-in still on its way (a renewal this request started) would make the pool look busy, and no code
		// runs here after it lands: wait for it, reading plain data, so the block does not sit parked until expiry.
		const until = Date.now() + STALE_CHECK_IN_MS;
		while (this.pool.checkInSince !== null && Date.now() < until) await sleep(POLL_MS);
		// A check-in still unanswered by now is given up, and its block handed back like any other.
		this.pool.sweep(Date.now());
		this.pool.handBack(Date.now());
		handBackRetired(this.stub, this.spec, this.pool, this.waitUntil);
	}
}
