// The fault run's clients (test/e2e/faults.test.ts, and the same run with blocks on): what each kind asks for
// and how it behaves. Every exchange, its own aborts included, ends by its deadline (dev/client.ts).
import type { Outcome } from "../../dev/client.ts";
import { exchange } from "../../dev/client.ts";

export type Kind = "normal" | "slow-stream" | "abort-mid-body" | "abort-at-origin" | "origin-reset" | "origin-hang" | "origin-500";

interface Client {
	readonly path: string;
	/** The client gives up this long after sending (before the origin's answer). */
	readonly abortAfterMs?: number;
	/** The client reads the first chunk of a 200's body, then gives up. */
	readonly abortMidBody?: boolean;
}

/** What each kind of client asks for and how it behaves. */
const kinds: Record<Kind, Client> = {
	normal: { path: "/work?delay=20" },
	"slow-stream": { path: "/stream?chunks=5&interval=30" },
	"abort-mid-body": { path: "/stream?chunks=40&interval=10", abortMidBody: true },
	"abort-at-origin": { path: "/work?delay=300", abortAfterMs: 50 },
	"origin-reset": { path: "/reset" },
	"origin-hang": { path: "/hang" },
	"origin-500": { path: "/status/500" },
};

/** Weighted so that faults are common but permits still turn over. */
export const mix: Kind[] = [
	...Array<Kind>(6).fill("normal"),
	...Array<Kind>(2).fill("slow-stream"),
	...Array<Kind>(2).fill("abort-mid-body"),
	...Array<Kind>(2).fill("abort-at-origin"),
	...Array<Kind>(2).fill("origin-reset"),
	"origin-hang",
	"origin-500",
];

/** One client's exchange; every outcome, its own aborts included, ends by its deadline. */
export async function send(kind: Kind, base: string, timeoutMs: number, until?: number): Promise<Outcome<number>> {
	const { path, abortAfterMs, abortMidBody } = kinds[kind];
	const client = new AbortController();
	const timer = abortAfterMs === undefined ? undefined : setTimeout(() => client.abort(), abortAfterMs);
	try {
		return await exchange(base + path, { signal: client.signal, timeoutMs, ...(until === undefined ? {} : { until }) }, async (res) => {
			if (abortMidBody && res.status === 200) {
				await res.body?.getReader().read();
				client.abort();
				return 0;
			}
			return (await res.arrayBuffer()).byteLength;
		});
	} finally {
		clearTimeout(timer);
	}
}
