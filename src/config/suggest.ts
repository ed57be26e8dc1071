// "Did you mean …?" for a misspelt setting or var: the known name closest to what was written.

/** Levenshtein distance: the fewest single-character insertions, deletions and substitutions from a to b. */
export function editDistance(a: string, b: string): number {
	let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		const row = [i];
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
		}
		previous = row;
	}
	return previous[b.length] ?? 0;
}

/**
 * The candidate `word` most likely stands for, or null when none is close: case is ignored, and at most a third
 * of the word's letters (at least one) may differ, so "limt" finds "limit" but "x" finds nothing.
 */
export function closest(word: string, candidates: readonly string[]): string | null {
	const most = Math.max(1, Math.floor(word.length / 3));
	let best: { name: string; distance: number } | null = null;
	for (const name of candidates) {
		const distance = editDistance(word.toLowerCase(), name.toLowerCase());
		if (distance <= most && (best === null || distance < best.distance)) best = { name, distance };
	}
	return best?.name ?? null;
}
