// A fair route's object-side state and decisions: who is active, who wants what, and whether one more permit for a key is fair.
import { ActiveKeys } from "./active-keys.ts";
import type { FairDecision } from "./fair-admission.ts";
import { fairAdmit, sharesOf } from "./fair-admission.ts";

/** Leases without a holder (keyless requests under missing = "route-only") count as one more key, so the total stays exact. */
export const UNKEYED = "\u0000unkeyed";

/** What the object knows at one decision: permits held per holder (UNKEYED for none) and waiters per holder. */
export interface Holdings {
	readonly inFlight: ReadonlyMap<string, number>;
	readonly queued: ReadonlyMap<string, number>;
	readonly waiters: number;
}

/** The fairness state a status shows. */
export interface FairStatus {
	readonly contended: boolean;
	readonly activeKeys: number;
	/** The largest share any active key may hold now, in permits (the limit when one key is alone). */
	readonly fairShare: number;
}

/** The holdings of a fair decision from the lease table's and the queue's counts per holder (null: none). */
export function holdingsOf(
	leases: ReadonlyMap<string | null, number>,
	queue: ReadonlyMap<string | null, number>,
	waiters: number,
): Holdings {
	const named = (counts: ReadonlyMap<string | null, number>) => new Map([...counts].map(([holder, n]) => [holder ?? UNKEYED, n]));
	return { inFlight: named(leases), queued: named(queue), waiters };
}

export class FairKeys {
	readonly active = new ActiveKeys();

	/** A key asks: counts its want (held + queued + this one) toward its recent demand. */
	asked(key: string, holdings: Holdings, now: number): void {
		this.active.asked(key, (holdings.inFlight.get(key) ?? 0) + (holdings.queued.get(key) ?? 0) + 1, now);
	}

	refused(now: number): void {
		this.active.refused(now);
	}

	/** May `key` take one more permit of `limit` now? (The lease table still checks the limit itself.) */
	decide(key: string, limit: number, holdings: Holdings, now: number): FairDecision {
		return fairAdmit({
			limit,
			inFlight: holdings.inFlight,
			demand: this.demand(holdings, now),
			key,
			contended: this.active.contended(now, holdings.waiters),
		});
	}

	status(limit: number, holdings: Holdings, now: number): FairStatus {
		const demand = this.demand(holdings, now);
		const shares = sharesOf({ limit, inFlight: holdings.inFlight, demand });
		shares.delete(UNKEYED);
		return {
			contended: this.active.contended(now, holdings.waiters),
			activeKeys: demand.size,
			fairShare: shares.size === 0 ? limit : Math.max(...shares.values()),
		};
	}

	/** How far each key is below its fair share now (share − held; negative when over it): the queue serves larger gaps first. */
	gaps(limit: number, holdings: Holdings, now: number): Map<string, number> {
		const shares = sharesOf({ limit, inFlight: holdings.inFlight, demand: this.demand(holdings, now) });
		return new Map([...shares].map(([key, share]) => [key, share - (holdings.inFlight.get(key) ?? 0)]));
	}

	/** A key's demand: its recent peak want, never below what it holds and queues now. */
	private demand(holdings: Holdings, now: number): Map<string, number> {
		const demand = this.active.demand(now);
		for (const [key, held] of holdings.inFlight) {
			demand.set(key, Math.max(demand.get(key) ?? 0, held + (holdings.queued.get(key) ?? 0)));
		}
		for (const [key, queued] of holdings.queued)
			demand.set(key, Math.max(demand.get(key) ?? 0, (holdings.inFlight.get(key) ?? 0) + queued));
		return demand;
	}
}
