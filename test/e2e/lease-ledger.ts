// A route's leases across reloads, read from its status counters. A reload restarts the Durable Object and
// its counters (they live in memory) while the leases stay in storage, so the counters are kept per
// generation: from one restart of the object to the next.
import type { RouteStatus } from "../../dev/gate.ts";

/** One generation of the route's object: its first and its last status read. */
export interface Generation {
	readonly first: RouteStatus;
	readonly last: RouteStatus;
}

/**
 * Leases that were live in storage when this generation's object started: those of requests the reload
 * killed (nobody is left to release them), and any older lease not yet reaped. Every lease live now was
 * either carried in or admitted since, and every one gone was released or reaped, so any status read of
 * the generation gives the same number.
 */
export function carriedIn(status: RouteStatus): number {
	const { admitted = 0, released = 0, reaped = 0 } = status.counters;
	return status.inFlight - admitted + released + reaped;
}

/** Leases admitted in this generation and not released (still held, or reaped). */
export function unreleased(status: RouteStatus): number {
	return (status.counters.admitted ?? 0) - (status.counters.released ?? 0);
}

/** Leases admitted in this generation that were reaped: what the reaper took beyond the leases carried in. */
export function reapedOwn({ first, last }: Generation): number {
	return Math.max(0, (last.counters.reaped ?? 0) - carriedIn(first));
}

export function describeGeneration(n: number, { first, last }: Generation): string {
	const c = last.counters;
	return `generation ${n}: carried in ${carriedIn(first)} leases; admitted ${c.admitted}, released ${c.released}, reaped ${c.reaped}, in flight ${last.inFlight}`;
}
