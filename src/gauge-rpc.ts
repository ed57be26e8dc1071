// The Gauge Durable Object's methods an isolate calls, carrying protocol.ts's messages. The Gauge class
// (src/object/durable-object.ts) implements them; src/isolate/ calls them without importing the class.
import type { ExchangeSample } from "./adaptive/sample.ts";
import type { AcquireRequest, AcquireResult, CheckIn, CheckInAnswer, Report, ShardRoute } from "./protocol.ts";

/**
 * The Gauge Durable Object's methods an isolate calls. An isolate holds a `DurableObjectNamespace<GaugeRpc>`: any
 * namespace bound to the Gauge class (the user's generated `DurableObjectNamespace<Gauge>`) is one.
 */
export interface GaugeRpc extends Rpc.DurableObjectBranded {
	acquire(req: AcquireRequest): AcquireResult | Promise<AcquireResult>;
	/** Idempotent; `graceMs` keeps a cut exchange counted a while, `sample` feeds an adaptive limit. */
	release(leaseId: string, tombstoneMs: number, graceMs?: number, sample?: ExchangeSample): boolean;
	renew(leaseId: string, maxHoldMs: number, shard?: ShardRoute | null): Promise<boolean>;
	/** The caller gave up waiting in the queue. */
	cancel(leaseId: string, tombstoneMs: number): boolean;
	checkIn(msg: CheckIn): CheckInAnswer | Promise<CheckInAnswer>;
	/**
	 * An isolate's batch of decisions; `keyRefused`: its refusals by key shares of this route (issue 19);
	 * `classRefused`: its refusals from memory per priority class index (issue 21).
	 */
	report(report: Report, keyRefused?: number, classRefused?: readonly number[]): void;
}

/** A namespace bound to the Gauge class, as an isolate sees it. */
export type GaugeNamespace = DurableObjectNamespace<GaugeRpc>;
