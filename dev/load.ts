// A closed-loop load generator like `hey -n N -c C`: C clients, each sending its share of N requests in sequence.
// Every request has a deadline (dev/client.ts): one that gets no answer in time is counted, never waited for.
import type { OutcomeKind } from "./client.ts";
import { describeOutcome, drain, exchange } from "./client.ts";

export interface LoadOptions {
	url: string;
	/** Total requests. */
	requests: number;
	/** Clients sending at once. */
	concurrency: number;
	init?: RequestInit;
	/** Each request's deadline, body included, in ms (hey's `-t`). Default 10 000. */
	timeoutMs?: number;
}

export interface LoadResult {
	/** Answers by status. */
	statuses: Record<number, number>;
	/** Milliseconds per answered request, by status. */
	latencies: Record<number, number[]>;
	/** Requests that got no answer, by how they ended (`client-timeout`, `network-error`). Empty when all were answered. */
	unanswered: Partial<Record<OutcomeKind, number>>;
	/** One line per unanswered request (which, how it ended, after how long), for failure messages. */
	problems: string[];
	elapsedMs: number;
}

export async function runLoad({ url, requests, concurrency, init = {}, timeoutMs = 10_000 }: LoadOptions): Promise<LoadResult> {
	const result: LoadResult = { statuses: {}, latencies: {}, unanswered: {}, problems: [], elapsedMs: 0 };
	const perClient = Math.floor(requests / concurrency);
	let sent = 0;
	const start = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async (_, client) => {
			const share = perClient + (client < requests % concurrency ? 1 : 0);
			for (let i = 0; i < share; i++) {
				const n = ++sent;
				const outcome = await exchange(url, { ...init, timeoutMs }, drain);
				if (outcome.kind === "answered") {
					result.statuses[outcome.status] = (result.statuses[outcome.status] ?? 0) + 1;
					const list = result.latencies[outcome.status] ?? [];
					list.push(outcome.ms);
					result.latencies[outcome.status] = list;
				} else {
					result.unanswered[outcome.kind] = (result.unanswered[outcome.kind] ?? 0) + 1;
					result.problems.push(`request ${n} of ${requests}, ${init.method ?? "GET"} ${url}: ${describeOutcome(outcome)}`);
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
