// A closed-loop load generator like `hey -n N -c C`: C clients, each sending its share of N requests in sequence.

export interface LoadOptions {
	url: string;
	/** Total requests. */
	requests: number;
	/** Clients sending at once. */
	concurrency: number;
	init?: RequestInit;
}

export interface LoadResult {
	/** Responses by status; network failures under 0. */
	statuses: Record<number, number>;
	/** Milliseconds per request, by status. */
	latencies: Record<number, number[]>;
	elapsedMs: number;
}

export async function runLoad({ url, requests, concurrency, init }: LoadOptions): Promise<LoadResult> {
	const result: LoadResult = { statuses: {}, latencies: {}, elapsedMs: 0 };
	const record = (status: number, ms: number): void => {
		result.statuses[status] = (result.statuses[status] ?? 0) + 1;
		const list = result.latencies[status] ?? [];
		list.push(ms);
		result.latencies[status] = list;
	};
	const perClient = Math.floor(requests / concurrency);
	const start = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async (_, client) => {
			const share = perClient + (client < requests % concurrency ? 1 : 0);
			for (let i = 0; i < share; i++) {
				const t = performance.now();
				try {
					const res = await fetch(url, init);
					await res.arrayBuffer();
					record(res.status, performance.now() - t);
				} catch {
					record(0, performance.now() - t);
				}
			}
		}),
	);
	result.elapsedMs = performance.now() - start;
	return result;
}

export function percentile(values: readonly number[], p: number): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
