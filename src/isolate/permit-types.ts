// The isolate's words for permits: which gauge a request asks, what it answers, how a permit ends. Shared by the
// permit and block code (isolate/), the holds (hold/) and the core, so none of them imports another for types.
import type { ExchangeSample } from "../adaptive/sample.ts";
import type { AdaptiveSettings } from "../adaptive/settings.ts";
import type { LocationHint } from "../config/schema.ts";
import type { AcquireRequest, ShardRoute } from "../protocol.ts";
import type { BlockSettings } from "./block-pool.ts";

export type ReleaseReason =
	| "delivered"
	| "no-body"
	| "client-cancelled"
	| "client-disconnected"
	| "origin-error"
	| "origin-timeout"
	| "worker-error"
	/** A later limit of the same request refused it. */
	| "refused-elsewhere"
	/** A held WebSocket closed, from the client's side or the origin's. */
	| "client-closed"
	/**
	 * A held WebSocket's client vanished (no close frame, an error, a failed send). Not a cut exchange: the gate
	 * closes the origin's socket itself, so the origin is not left working and no cutRelease grace applies.
	 */
	| "client-dropped"
	| "origin-closed"
	/** A held WebSocket's lease could not be renewed (released, expired, or its object unreachable too long). */
	| "lease-lost"
	/** The client left before the request was sent to the origin. */
	| "abandoned";

/** How a renewal went: the lease lives on, is gone for good, or its object did not answer (try again). */
export type RenewOutcome = "renewed" | "lost" | "unavailable";

/** Endings that cut an exchange the origin may still be working on: their permits follow the route's cutRelease. */
const CUTS: ReadonlySet<ReleaseReason> = new Set<ReleaseReason>(["client-cancelled", "client-disconnected", "origin-timeout"]);

/** How long a permit ended for `reason` stays counted: the route's cutRelease grace for a cut, else 0. */
export function graceMsFor(reason: ReleaseReason, spec: Pick<GaugeSpec, "cutGraceMs">): number {
	return CUTS.has(reason) ? spec.cutGraceMs : 0;
}

/** One Durable Object's count and how a request asks it: the route's total or a key's share. */
export interface GaugeSpec {
	/** The Durable Object's name: `route:<name>` or `key:<name>:<hash>`. */
	readonly objectName: string;
	/** The policy name in RateLimit headers and logs. */
	readonly policy: string;
	/** The policy's quota in RateLimit headers: the route's total even when this object holds a shard of it. */
	readonly quota: number;
	/** Permits this object holds (a key's limit; a route shard's share is decided by the object, see layout.ts). */
	readonly limit: number;
	/** How long its lease lives if never released; also how long a tombstone for it lives. */
	readonly maxHoldMs: number;
	readonly queue: AcquireRequest["queue"] | null;
	readonly dryRun: boolean;
	/** On the route's gauge: the key's object name, so the route can tell its busiest keys. */
	readonly holder?: string;
	/** On a route's shard: which one, the config's layout, and where the layout record is. */
	readonly shard?: ShardRoute;
	/** How long a cut exchange's permit stays counted after the cut (0: given back at once). */
	readonly cutGraceMs: number;
	/** On a route with classes: the request's class and every class's headroom (the object holds each class to its cap). */
	readonly priority?: { readonly index: number; readonly headrooms: readonly number[] };
	/** On a fair route's gauge: the object holds the request's key (`holder`) to its fair share while contended. */
	readonly fair?: boolean;
	/** On an adaptive route's gauge: the object learns its limit, and each release carries a sample. */
	readonly adaptive?: AdaptiveSettings;
	/** Permits leased to this isolate in blocks (docs/blocks.md); absent or null: one object call per request. */
	readonly blocks?: BlockSettings | null;
	/** Where the object is created (a Durable Object location hint, e.g. "enam"). */
	readonly locationHint?: LocationHint;
}

export type PermitResult =
	| {
			readonly kind: "granted";
			/** A lease of its own, or one of its isolate's block (src/isolate/blocks.ts). */
			readonly permit: Renewable;
			readonly inFlight: number;
			readonly limit: number;
			/** The policy's quota in force (a route's total over its shards, or a key's limit). */
			readonly quota: number;
	  }
	| {
			readonly kind: "refused";
			readonly retryAfterMs: number;
			readonly inFlight: number;
			readonly limit: number;
			readonly quota: number;
			/** Refused from this isolate's hint that the gauge is full, without a Durable Object call. */
			readonly local: boolean;
			/** Refused because the request's key holds its fair share already (a fair route), not because the route is full. */
			readonly overShare?: boolean;
			/** Refused because the request's priority class holds its cap (a route with classes). */
			readonly classFull?: boolean;
	  }
	/** The Durable Object could not answer; whether it granted the lease is unknown. */
	| { readonly kind: "unavailable"; readonly error: unknown }
	/** The client had gone before the object was asked: nothing was taken. */
	| { readonly kind: "cancelled" };

/** Keeps a promise alive after the response is returned (ExecutionContext.waitUntil). */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** Something that gives permits back: release is idempotent, only the first call counts. */
export interface Releasable {
	/** `sample` (how the exchange with the origin went) reaches only an adaptive route's object. */
	release(reason: ReleaseReason, sample?: ExchangeSample | null): Promise<void>;
	/** Why it was given back, once it has been. */
	readonly reason: ReleaseReason | null;
}

/** Permits that a long-lived exchange keeps alive by renewing their leases. */
export interface Renewable extends Releasable {
	/** Extends every lease by its maxHoldMs from now; the worst outcome of them all. */
	renew(): Promise<RenewOutcome>;
	/** A time (this isolate's clock) before which no lease can have expired; Infinity when there are none. */
	readonly expiresBy: number;
}
