// Max-min fair shares of a limit among keys (water-filling), as Doorman's FAIR_SHARE computes them.

/**
 * Each key's max-min fair share of `capacity`: keys that want no more than an equal share get what they want,
 * and what they leave is shared equally among the rest (capacity 120, demands 1000/50/10 → 60/50/10). Shares are
 * real numbers in the order of `demands`; they add up to min(capacity, total demand). Negative demands count as 0.
 */
export function waterFill(capacity: number, demands: readonly number[]): number[] {
	const shares = demands.map(() => 0);
	// The smallest demands are satisfied first: each one below the equal split of what is left takes only itself.
	const order = demands.map((_, i) => i).sort((a, b) => (demands[a] ?? 0) - (demands[b] ?? 0));
	let left = Math.max(0, capacity);
	for (const [rank, i] of order.entries()) {
		const want = Math.max(0, demands[i] ?? 0);
		const equal = left / (order.length - rank);
		const share = Math.min(want, equal);
		shares[i] = share;
		left -= share;
	}
	return shares;
}

/**
 * The whole permits a key may hold under a real-valued share: rounded up, so shares such as 20/3 still let the
 * limit fill (7 + 7 + 6); the route's limit, checked on its own, keeps the total exact.
 */
export function permitsOf(share: number): number {
	// Shares add and subtract floats: 6.000000000001 is 6, not 7.
	return Math.ceil(share - 1e-9);
}
