// The benchmark's floor for a flood: the simplest gate there is, a counter in one isolate's memory (no Durable
// Object, no headers, no streaming), in front of the same origin. Whatever utilisation and latency it reaches
// on this machine under the same load is what any gate can reach here. Never deployed: it is exact only
// because the benchmark runs one isolate.
//
// Optionally with a wait queue in the same memory (QUEUE_SIZE ≥ 1, MAX_WAIT_MS), served as the route's object serves
// its own: ORDER = "fifo" (oldest first) or "adaptive" (LIFO and CoDel shedding under sustained overload), with the
// object's pure ordering code (src/object/queue-order.ts) and the same auto target and interval, from this gate's own
// mean hold time (TARGET_MS / INTERVAL_MS fix them, as queue.targetMs / intervalMs do). The ceiling for a queue.
import type { CodelConfig, Queued } from "../../src/object/queue-order.ts";
import { AdaptiveQueue, codelSettings, nextWaiter } from "../../src/object/queue-order.ts";

interface Env {
	ORIGIN: string;
	LIMIT?: string;
	/** Waiters at most; unset or 0: no queue (refuse at once). */
	QUEUE_SIZE?: string;
	MAX_WAIT_MS?: string;
	ORDER?: "fifo" | "adaptive";
	TARGET_MS?: string;
	INTERVAL_MS?: string;
}

/** The mean hold time's start and weight, as the route's object keeps it (src/object/lease-table.ts). */
const INITIAL_HOLD_MS = 1_000;
const HOLD_EWMA_WEIGHT = 0.2;

interface Waiter extends Queued {
	/** Called with true when the waiter gets a permit, false when it is shed. */
	readonly wake: (admitted: boolean) => void;
}

let inFlight = 0;
let holdEwmaMs = INITIAL_HOLD_MS;
const waiters = new Set<Waiter>();
let codel: AdaptiveQueue | null = null;

function codelConfig(env: Env): CodelConfig {
	return {
		...(env.TARGET_MS ? { targetMs: Number(env.TARGET_MS) } : {}),
		...(env.INTERVAL_MS ? { intervalMs: Number(env.INTERVAL_MS) } : {}),
	};
}

/** Serves waiters while permits are free, as the object's drain does: ordered, and shed by CoDel on an adaptive queue. */
function drain(env: Env, limit: number): void {
	while (inFlight < limit && waiters.size > 0) {
		const now = Date.now();
		const settings = codelSettings(codelConfig(env), holdEwmaMs);
		const next = nextWaiter(waiters, codel?.mode(now, settings) ?? "fifo", () => true);
		if (!next) return;
		waiters.delete(next);
		codel?.observe(waiters.size, now);
		if (codel?.shed(now - next.enqueuedAt, now, settings)) {
			next.wake(false);
			continue;
		}
		inFlight++;
		next.wake(true);
	}
}

/** A permit, at once or after waiting in the queue; false when refused (no room, queue full, timed out or shed). */
async function permit(env: Env, limit: number): Promise<boolean> {
	if (inFlight < limit) {
		inFlight++;
		return true;
	}
	const size = Number(env.QUEUE_SIZE ?? 0);
	if (waiters.size >= size) return false;
	if (env.ORDER === "adaptive") codel ??= new AdaptiveQueue(Date.now());
	const now = Date.now();
	return new Promise<boolean>((resolve) => {
		const timer = setTimeout(
			() => {
				waiters.delete(waiter);
				codel?.observe(waiters.size, Date.now());
				resolve(false);
			},
			Number(env.MAX_WAIT_MS ?? 1_000),
		);
		const waiter: Waiter = {
			priority: 0,
			gap: 0,
			enqueuedAt: now,
			wake: (admitted) => {
				clearTimeout(timer);
				resolve(admitted);
			},
		};
		waiters.add(waiter);
		codel?.observe(waiters.size, now);
	});
}

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		const limit = Number(env.LIMIT ?? 10);
		if (!(await permit(env, limit))) return new Response("Too many requests", { status: 429, headers: { "retry-after": "1" } });
		const start = Date.now();
		try {
			const url = new URL(request.url);
			const res = await fetch(`${env.ORIGIN}${url.pathname}${url.search}`);
			// The whole body read before the permit goes back, as the gate releases when the body is delivered.
			return new Response(await res.arrayBuffer(), res);
		} finally {
			inFlight--;
			holdEwmaMs += HOLD_EWMA_WEIGHT * (Date.now() - start - holdEwmaMs);
			drain(env, limit);
		}
	},
};
