// Counters only this isolate can keep: events where the route's Durable Object was not, or could not be, asked.

export interface IsolateCounters {
	/** Acquires whose Durable Object call failed (outcome unknown). */
	gaugeErrors: number;
	/** Requests proxied without a permit because the route fails open. */
	failOpen: number;
	/** Refusals answered from this isolate's "full" hint, without asking the Durable Object. */
	localRefusals: number;
}

const byRoute = new Map<string, IsolateCounters>();

/** The live counters of a route in this isolate (since it started); callers may increment them. */
export function isolateCounters(route: string): IsolateCounters {
	let counters = byRoute.get(route);
	if (!counters) {
		counters = { gaugeErrors: 0, failOpen: 0, localRefusals: 0 };
		byRoute.set(route, counters);
	}
	return counters;
}
