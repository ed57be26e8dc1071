// The messages between an isolate and a route's Durable Object (the methods that carry them: gauge-rpc.ts). The
// object's side is src/object/ (blocks.ts answers check-ins), the Worker's side is src/isolate/, which never
// imports src/object/ (.dependency-cruiser.cjs). Plain data, no runtime types, so Node scripts can read it too.
import type { AdaptiveSettings } from "./adaptive/settings.ts";

export interface AcquireRequest {
	/** Made by the caller before it asks, so a retried acquire cannot take a second permit. */
	readonly leaseId: string;
	readonly limit: number;
	/** How long the lease lives if it is never released: the backstop against leaks. */
	readonly maxHoldMs: number;
	/** Count a refusal as a dry-run refusal (the caller admits the request anyway). */
	readonly dryRun?: boolean;
	/** Who holds the lease within this gauge (a key's object name), for "busiest keys". */
	readonly holder?: string;
	/** A fair route: hold `holder` (the request's key) to its max-min fair share while the route is contended. */
	readonly fair?: boolean;
	/** A route with priority classes: the request's class (0: most critical) and every class's headroom, in order. */
	readonly priority?: { readonly index: number; readonly headrooms: readonly number[] };
	/**
	 * Wait for a permit instead of being refused at once: FIFO, or with `adaptive` LIFO and CoDel shedding under
	 * sustained overload (src/object/queue-order.ts). CoDel's `targetMs` / `intervalMs` stay fixed when given; absent,
	 * the object scales them to the route's mean hold time (auto). An isolate from before auto sends both (5 / 100) and
	 * keeps them; an object from before auto, sent neither, never counts as overloaded nor turns LIFO: plain FIFO.
	 */
	readonly queue?: {
		readonly size: number;
		readonly maxWaitMs: number;
		readonly adaptive?: { readonly targetMs?: number; readonly intervalMs?: number };
	};
	/**
	 * Not the request's last try (another shard of the route follows): it never waits, and a refusal is not
	 * counted, so a request refused by every shard it tried counts once, on the last.
	 */
	readonly tentative?: boolean;
	/** The asking isolate's block pool id, when it has one: its own refusals are no pressure on its block (blocks.ts). */
	readonly isolate?: string;
	/** On a route's shard: the object grants against the route's layout record, not against `limit`. */
	readonly shard?: ShardRoute;
	/** On an adaptive route: the object learns the limit within these bounds, and `limit` is only its ceiling. */
	readonly adaptive?: AdaptiveSettings;
	/**
	 * Leases of this object the asking isolate has released (no grace, no sample) whose release call has not been
	 * answered yet: the object releases them first (release is idempotent), so a client's next request never finds
	 * its own last permit still counted because the two calls crossed. At most MAX_RELEASING.
	 */
	readonly releasing?: readonly string[];
}

/** Releases an acquire carries at most. */
export const MAX_RELEASING = 32;

/** Why a permit was not granted. */
export type RefusalReason =
	| "full"
	/** This lease id was already released (a late, duplicate acquire). */
	| "released"
	/** A fair route is contended and the request's key holds its fair share already. */
	| "over-share"
	/** The request's priority class (with the classes below it) holds its cap: the rest is kept for the classes above. */
	| "class-full"
	| "queue-full"
	| "queue-timeout"
	/** The caller gave up while waiting (its client went away). */
	| "cancelled";

export type AcquireResult =
	| {
			readonly ok: true;
			readonly leaseId: string;
			readonly expiresAt: number;
			readonly inFlight: number;
			readonly limit: number;
			/** The policy's quota in force: a route's total over all its shards, or a key's limit. */
			readonly quota: number;
			/** When this grant took the last permit: the retry line the next refusals join (see the refusal's `line`). */
			readonly line?: RetryLineView;
	  }
	| {
			readonly ok: false;
			readonly reason: RefusalReason;
			readonly inFlight: number;
			readonly limit: number;
			readonly quota: number;
			/** When to retry: never before a permit is likely to free, spread by place in line (src/responses/retry-line.ts). */
			readonly retryAfterMs: number;
			/**
			 * The retry line this refusal was placed in, so an isolate that refuses the next requests from memory (a hint)
			 * goes on spreading them: when a permit is likely to free, one slot's length, and how far the line may reach
			 * (all ms from the answer). Absent from objects older than it.
			 */
			readonly line?: RetryLineView;
	  };

/** What an isolate needs to go on placing refusals in a route's retry line. */
export interface RetryLineView {
	readonly freeInMs: number;
	readonly slotMs: number;
	readonly capMs: number;
}

/** Shard i's fixed share of a total: shares differ by at most one and add up to the total. */
export function shareOf(total: number, shards: number, i: number): number {
	return Math.floor(total / shards) + (i < total % shards ? 1 : 0);
}

/** Where a route shard is: its index, its caller's layout, and the object that keeps the record (shard 0). */
export interface ShardRoute {
	readonly index: number;
	/** The object name of shard 0, `route:<name>`. */
	readonly record: string;
	readonly layout: Layout;
}

/** What one deployed config asks of a route. */
export interface Layout {
	/** The route's configured limit. */
	readonly total: number;
	readonly shards: number;
	/** How long its route leases live (maxHoldMs). */
	readonly leaseMs: number;
}

/** Decisions one isolate made since its last report, counted once, globally, by the object that receives them. */
export interface Report {
	/** Requests admitted under a block (no object call each). */
	admitted: number;
	/** Requests admitted under a block that have ended. */
	released: number;
	/** Permits of a block taken back at their deadline (admission + maxHoldMs) without a release: leaks, as reaped leases. */
	reaped: number;
	/** Hold times of those releases, in ms (at most MAX_HOLD_SAMPLES; `released` counts them all). */
	holdsMs: number[];
	/** Refusals answered from the isolate's memory (a "full" hint), without an object call. */
	localRefused: number;
	/** Object calls that failed while admitting (outcome unknown). */
	gaugeErrors: number;
	/** Requests admitted without a permit because the route fails open. */
	failOpen: number;
}

/** Hold samples carried per report at most; beyond that a report still counts the releases. */
export const MAX_HOLD_SAMPLES = 256;

export function emptyReport(): Report {
	return { admitted: 0, released: 0, reaped: 0, holdsMs: [], localRefused: 0, gaugeErrors: 0, failOpen: 0 };
}

export function isEmptyReport(r: Report): boolean {
	return r.admitted + r.released + r.reaped + r.localRefused + r.gaugeErrors + r.failOpen === 0;
}

/**
 * An isolate asks for its block to be (re)sized: grown when its local pool ran dry, shrunk to what it uses
 * when the object is under pressure or it idles, 0 to give the block back. It also extends the block's lease.
 */
export interface CheckIn {
	/** Made by the isolate; a new id for every block (a lost or abandoned block is never revived). */
	readonly blockId: string;
	/** Who asks: the isolate's pool, by a random id of its own. Others' refusals are pressure on it; its own are not. */
	readonly isolate?: string;
	/**
	 * Permits the isolate wants to be able to use after this call (0: the block goes back). It admits no more than
	 * this under the block from the moment it sends it.
	 */
	readonly want: number;
	/**
	 * The most requests the isolate may have in flight under the block until it has the answer (what is in use, or
	 * its admission cap while the window is open): the object never counts fewer for the block. Absent (an isolate
	 * from before it was sent): `min(current count, want)`.
	 */
	readonly using?: number;
	/** A request is waiting for a permit from this call: a refusal counts as one. */
	readonly need: boolean;
	/** Requests in flight under this block now (never above what the isolate still uses of it). */
	readonly inUse: number;
	/** The configured limit (a runtime limit on the object replaces it). */
	readonly limit: number;
	readonly maxHoldMs: number;
	/** How long after this call the isolate may still admit under the block; the block's lease is windowMs + maxHoldMs. */
	readonly windowMs: number;
	/** Count the refusal (if any) as a dry-run refusal. */
	readonly dryRun: boolean;
	/** Not the request's last try (another shard of the route follows): a refusal is not counted. */
	readonly tentative?: boolean;
	/** On a route's shard: the block is sized against the shard's share from the route's layout record. */
	readonly shard?: ShardRoute;
	readonly report: Report | null;
}

/** What the object tells every caller about contention, so that isolates holding spares give them back. */
export interface Pressure {
	/** Requests waiting in the object's queue. */
	readonly waiters: number;
	/** The object refused someone else (another isolate, or a request without a block) within the last PRESSURE_MS. */
	readonly refusing: boolean;
	/** The live count is above the limit (it was lowered): blocks shrink to what they use. */
	readonly recall: boolean;
	/**
	 * Under pressure, the most a busy isolate's block keeps (one whose own demand runs it dry): the limit over the
	 * isolates holding blocks or refused lately. An isolate with idle spares keeps only what it uses.
	 */
	readonly share: number;
}

/** A refusal less than this long ago still counts as pressure. */
export const PRESSURE_MS = 1_000;

export type CheckInAnswer = {
	/** Permits the object counts for the block now (0: gone, or never granted): never fewer than the isolate's `using`. */
	readonly count: number;
	/**
	 * Permits the isolate may use from now on: it admits while its in-use count is below this. At most `count`, and
	 * below it over a lowered limit, where the object keeps counting what is in use but none of it may be reused.
	 * Absent (an object from before it was sent): `count`.
	 */
	readonly cap?: number;
	/** False when the block had been given back or had expired: the isolate must forget it. */
	readonly alive: boolean;
	/**
	 * The object refused the request waiting on this check-in (`need`), and counted it unless tentative. The
	 * isolate refuses it too, even if a permit of its own freed meanwhile: admitting it would count it twice.
	 */
	readonly refused: boolean;
	readonly inFlight: number;
	/** The limit in force on this object (a shard's share, a runtime limit). */
	readonly limit: number;
	/** The policy's quota in force (the route's total over its shards), for RateLimit headers. */
	readonly quota: number;
	/** When a permit is likely to free (for a refusal's Retry-After). */
	readonly retryAfterMs: number;
	readonly pressure: Pressure;
};
