// Counters only this isolate can keep: events where the route's Durable Object was not, or could not be, asked.

export interface IsolateCounters {
	/** Acquires whose Durable Object call failed (outcome unknown). */
	gaugeErrors: number;
	/** Requests proxied without a permit because the route fails open. */
	failOpen: number;
	/** Route-scope refusals answered from this isolate's "full" hint, without asking the Durable Object. */
	localRefusals: number;
	/**
	 * Refusals because the client's perKey share was in use (answered by the key's object or from memory): the
	 * key's object is not the route's, and no report lists key objects, so the isolate counts them for the route.
	 */
	keyRefusals: number;
}

const byRoute = new Map<string, IsolateCounters>();
const byClass = new Map<string, number[]>();

/**
 * Refusals of a route's priority classes this isolate answered from memory, by class index (0: most critical): the
 * object counts the ones it answers itself. Live; callers may increment them.
 */
export function localClassRefusals(route: string): number[] {
	let counts = byClass.get(route);
	if (!counts) {
		counts = [];
		byClass.set(route, counts);
	}
	return counts;
}

/** The live counters of a route in this isolate (since it started); callers may increment them. */
export function isolateCounters(route: string): IsolateCounters {
	let counters = byRoute.get(route);
	if (!counters) {
		counters = { gaugeErrors: 0, failOpen: 0, localRefusals: 0, keyRefusals: 0 };
		byRoute.set(route, counters);
	}
	return counters;
}
