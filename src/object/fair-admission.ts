// The admission rule of a fair route: the limit first, then, while the route is contended, each key's fair share.
import { permitsOf, waterFill } from "./fair-share.ts";

/** What the rule sees at one admission; every map is by key (a key's object name). */
export interface FairInput {
	readonly limit: number;
	/** Permits each key holds now. */
	readonly inFlight: ReadonlyMap<string, number>;
	/** What each active key wants (in flight + queued, or its recent peak): at least what it holds. */
	readonly demand: ReadonlyMap<string, number>;
	/** The key asking for one more permit. */
	readonly key: string;
	/** Others are waiting or were refused lately: keys are held to their shares. Uncontended, any key may fill the limit. */
	readonly contended: boolean;
}

export type FairDecision =
	| { readonly ok: true }
	/** "full": the limit is reached; "over-share": the key holds its fair share already (`share` permits). */
	| { readonly ok: false; readonly reason: "full" | "over-share"; readonly share: number };

/** Grants one permit to `key`, or says which rule refused. Pure: the caller counts and records. */
export function fairAdmit(input: FairInput): FairDecision {
	const { limit, inFlight, key } = input;
	let total = 0;
	for (const n of inFlight.values()) total += n;
	const share = fairShareOf(input);
	// A key over its share is refused as that, even when the route is full too (its clients are told so).
	if (input.contended && (inFlight.get(key) ?? 0) + 1 > share) return { ok: false, reason: "over-share", share };
	if (total >= limit) return { ok: false, reason: "full", share };
	return { ok: true };
}

/** The whole permits `input.key` may hold while contended: its water-filled share of the limit, asking for one more. */
export function fairShareOf(input: FairInput): number {
	return sharesOf(input).get(input.key) ?? 0;
}

/** Every active key's share in whole permits: demand is never below what a key holds, and the asker (if any) wants one more. */
export function sharesOf(input: Omit<FairInput, "contended" | "key"> & { readonly key?: string }): Map<string, number> {
	const keys = new Set([...input.demand.keys(), ...input.inFlight.keys(), ...(input.key === undefined ? [] : [input.key])]);
	const names = [...keys];
	const demands = names.map((k) => {
		const held = input.inFlight.get(k) ?? 0;
		const asking = k === input.key ? held + 1 : 0;
		return Math.max(input.demand.get(k) ?? 0, held, asking);
	});
	const shares = waterFill(input.limit, demands);
	return new Map(names.map((k, i) => [k, permitsOf(shares[i] ?? 0)]));
}
