// Priority classes: each class leaves a share of the limit (its headroom) free for the classes above it.

/**
 * The most each class and every class below it (less critical) may hold together: floor(limit × (1 − headroom)).
 * With headrooms never decreasing down the list, these caps never increase: the most critical class may use all
 * the limit (headroom 0), and what a lower class may not take stays free for those above it.
 */
export function classCaps(limit: number, headrooms: readonly number[]): number[] {
	return headrooms.map((headroom) => Math.floor(limit * (1 - headroom) + 1e-9));
}

/** What each of `classes` classes holds, from counts per class index; leases of no (or an unknown) class count as the last class. */
export function classLoad(counts: ReadonlyMap<number | null, number>, classes: number): number[] {
	const load = Array.from({ length: classes }, () => 0);
	for (const [index, n] of counts) {
		const i = index === null || index < 0 || index >= classes ? classes - 1 : index;
		load[i] = (load[i] ?? 0) + n;
	}
	return load;
}

export type ClassDecision =
	| { readonly ok: true }
	/** "full": the limit is reached; "class-full": the class (with those below it) holds its cap; `cap` is that cap. */
	| { readonly ok: false; readonly reason: "full" | "class-full"; readonly cap: number };

/**
 * May one more request of class `index` (0: most critical) be admitted? `inFlight[i]` is what class i holds. It must
 * fit the limit, and for every class j at or above it, classes j..last together must stay within class j's cap (a
 * request of class i counts toward the caps of i and of every class above it, whose caps bound them with those below).
 */
export function classAdmit(limit: number, headrooms: readonly number[], inFlight: readonly number[], index: number): ClassDecision {
	const total = inFlight.reduce((a, b) => a + b, 0);
	const caps = classCaps(limit, headrooms);
	// A class at a cap below the limit is refused as that, even when the route is full too: it is over its part, and
	// its clients are told so (Retry-After's line for those over their share, a hint for their class only).
	let below = 0;
	for (let j = inFlight.length - 1; j >= 0; j--) {
		below += inFlight[j] ?? 0;
		if (j > index) continue;
		const cap = caps[j] ?? limit;
		if (cap < limit && below + 1 > cap) return { ok: false, reason: "class-full", cap: caps[index] ?? limit };
	}
	if (total >= limit) return { ok: false, reason: "full", cap: caps[index] ?? limit };
	return { ok: true };
}
