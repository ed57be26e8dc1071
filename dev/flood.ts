// Closed-loop clients sending as fast as they can until stopped, each request with its own deadline: what the
// adaptive-limit acceptance run and benchmark put on the gate. Optionally they honour Retry-After on a 429.

export interface FloodOptions {
	url: string;
	clients: number;
	/** Each request's deadline; a request past it counts as status 0. */
	timeoutMs: number;
	/** Wait what a 429's Retry-After says (at most this long) before the next request; 0: retry at once. */
	maxRetryAfterMs?: number;
}

export interface Exchange {
	/** When it ended, ms since the flood started. */
	t: number;
	/** 0 for a network failure or a missed deadline. */
	status: number;
	ms: number;
}

export interface Flood {
	readonly done: Exchange[];
	/** Ms since the flood started. */
	now(): number;
	/** Lets every client finish its request in flight, then resolves. */
	stop(): Promise<void>;
}

export function startFlood({ url, clients, timeoutMs, maxRetryAfterMs = 0 }: FloodOptions): Flood {
	const start = Date.now();
	const now = (): number => Date.now() - start;
	const done: Exchange[] = [];
	let running = true;
	const client = async (): Promise<void> => {
		while (running) {
			const t0 = Date.now();
			let status = 0;
			let pause = 0;
			try {
				const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
				await res.arrayBuffer();
				status = res.status;
				if (status === 429) pause = Math.min(maxRetryAfterMs, 1000 * Number(res.headers.get("retry-after") ?? 1));
			} catch {
				status = 0;
			}
			done.push({ t: now(), status, ms: Date.now() - t0 });
			if (pause > 0) await new Promise((r) => setTimeout(r, pause));
		}
	};
	const all = Promise.all(Array.from({ length: clients }, client));
	return {
		done,
		now,
		async stop() {
			running = false;
			await all;
		},
	};
}
