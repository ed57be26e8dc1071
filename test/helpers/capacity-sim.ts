// A millisecond-stepped simulation of the gate's loop: closed-loop clients, a gate holding permits under an adaptive
// limit, and an origin with C workers busy D ms each whose other requests wait inside it. Deterministic and fast,
// so tests can check how an algorithm behaves over tens of simulated seconds.
import type { Limit } from "../../src/adaptive/limit.ts";

export interface SimOptions {
	limit: Limit;
	clients: number;
	durationMs: number;
	/** The origin's workers at time t. */
	capacity: (t: number) => number;
	/** Each request's work, ms. */
	workMs: number;
	/** Share of requests the origin answers 503 at once, at time t. Default none. */
	errorShare?: (t: number) => number;
	/** Time a permit is held outside the origin (the Worker and object calls), split before and after. Default 10. */
	overheadMs?: number;
	/** A refused client tries again after this long. Default 1. */
	retryMs?: number;
	/** Each request's work varies by up to ± this share of workMs (seeded, so runs repeat). Default 0.1. */
	jitter?: number;
	seed?: number;
}

export interface SimPoint {
	t: number;
	limit: number;
	inflight: number;
	/** Requests inside the origin: working and waiting. */
	origin: number;
}

export interface SimResult {
	trace: SimPoint[];
	/** Admitted requests: when they were released and how long they held a permit. */
	admitted: { t: number; ms: number; ok: boolean }[];
}

interface Req {
	client: number;
	admittedAt: number;
	sentAt: number;
	answeredAt: number;
	drop: boolean;
}

export function simulate(o: SimOptions): SimResult {
	const half = (o.overheadMs ?? 10) / 2;
	const events = new Map<number, (() => void)[]>();
	const at = (t: number, fn: () => void): void => {
		const list = events.get(t) ?? [];
		list.push(fn);
		events.set(t, list);
	};
	let now = 0;
	let inflight = 0;
	let working = 0;
	let errorDebt = 0;
	let seed = o.seed ?? 1;
	// mulberry32: a small seeded generator, so a run can be repeated exactly.
	const random = (): number => {
		seed = (seed + 0x6d2b79f5) | 0;
		let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
		return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
	};
	const jitter = o.jitter ?? 0.1;
	const waiting: Req[] = [];
	const result: SimResult = { trace: [], admitted: [] };

	const startWork = (): void => {
		while (working < o.capacity(now) && waiting.length > 0) {
			const req = waiting.shift() as Req;
			working++;
			at(now + Math.max(1, Math.round(o.workMs * (1 + jitter * (2 * random() - 1)))), () => {
				working--;
				answer(req);
				startWork();
			});
		}
	};
	const answer = (req: Req): void => {
		req.answeredAt = now;
		at(now + half, () => release(req));
	};
	const release = (req: Req): void => {
		o.limit.onSample(req.sentAt, req.answeredAt - req.sentAt, inflight, req.drop);
		inflight--;
		result.admitted.push({ t: now, ms: now - req.admittedAt, ok: !req.drop });
		send(req.client);
	};
	const send = (client: number): void => {
		if (inflight >= o.limit.limit) {
			at(now + (o.retryMs ?? 1), () => send(client));
			return;
		}
		inflight++;
		const req: Req = { client, admittedAt: now, sentAt: now + half, answeredAt: 0, drop: false };
		at(now + half, () => {
			// An exact share: each request adds its share of an error, and a whole one fails this request.
			errorDebt += o.errorShare?.(now) ?? 0;
			if (errorDebt >= 1) {
				errorDebt -= 1;
				req.drop = true;
				at(now + 1, () => answer(req));
				return;
			}
			waiting.push(req);
			startWork();
		});
	};

	for (let c = 0; c < o.clients; c++) send(c);
	for (now = 0; now <= o.durationMs; now++) {
		// Callbacks may schedule more for this same millisecond: run until none is left.
		for (let due = events.get(now); due; due = events.get(now)) {
			events.delete(now);
			for (const fn of due) fn();
		}
		startWork();
		if (now % 100 === 0) result.trace.push({ t: now, limit: o.limit.limit, inflight, origin: working + waiting.length });
	}
	return result;
}
