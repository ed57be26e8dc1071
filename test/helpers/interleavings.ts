// Random interleavings of acquire, release, time passing and restarts, checked against the gauge's invariants.
import fc from "fast-check";
import { expect } from "vitest";
import type { LeaseTable } from "../../src/gauge/lease-table.ts";

export type Op =
	| { kind: "acquire"; id: number }
	| { kind: "release"; id: number }
	| { kind: "renew"; id: number }
	| { kind: "advance"; ms: number }
	| { kind: "restart" };

export const HOLD_MS = 1_000;

/** A limit and a list of operations on lease ids 0..11 (so ids repeat: duplicates and late releases happen). */
export const scenario = fc.record({
	limit: fc.integer({ min: 1, max: 5 }),
	ops: fc.array(
		fc.oneof(
			{ weight: 5, arbitrary: fc.record({ kind: fc.constant("acquire" as const), id: fc.nat(11) }) },
			{ weight: 3, arbitrary: fc.record({ kind: fc.constant("release" as const), id: fc.nat(11) }) },
			{ weight: 2, arbitrary: fc.record({ kind: fc.constant("renew" as const), id: fc.nat(11) }) },
			{ weight: 2, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 700 }) }) },
			{ weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const) }) },
		),
		{ maxLength: 60 },
	),
});

/**
 * Runs the operations on a table. `open` builds a table over the same storage (a restart keeps the
 * storage, loses memory). After every step: never more than `limit` live, the table's count equals the
 * leases granted and neither released nor expired, and "full" only when they really fill the limit.
 * A renewal succeeds exactly for a live lease and never brings back a released or expired one.
 * At the end, releasing every held lease brings the count back to zero.
 */
export function runScenario(limit: number, ops: readonly Op[], open: () => LeaseTable): void {
	let table = open();
	let now = 0;
	const held = new Map<string, number>(); // lease id -> expiry, for leases granted and not released
	const live = (): number => [...held.values()].filter((expiry) => expiry > now).length;

	for (const op of ops) {
		if (op.kind === "advance") now += op.ms;
		else if (op.kind === "restart") table = open();
		else if (op.kind === "acquire") {
			const id = `lease-${op.id}`;
			const before = live();
			const result = table.acquire({ leaseId: id, limit, maxHoldMs: HOLD_MS }, now);
			if (result.ok) {
				if (!held.has(id) || (held.get(id) ?? 0) <= now) held.set(id, result.expiresAt);
			} else if (result.reason === "full") {
				expect(before).toBeGreaterThanOrEqual(limit);
			}
		} else if (op.kind === "renew") {
			const id = `lease-${op.id}`;
			const expiry = held.get(id);
			const alive = expiry !== undefined && expiry > now;
			expect(table.renew(id, now, HOLD_MS)).toBe(alive);
			if (alive) held.set(id, Math.max(expiry, now + HOLD_MS));
		} else {
			table.release(`lease-${op.id}`, now, HOLD_MS);
			held.delete(`lease-${op.id}`);
		}
		expect(table.inFlight(now)).toBeLessThanOrEqual(limit);
		expect(table.inFlight(now)).toBe(live());
	}
	for (const id of held.keys()) table.release(id, now, HOLD_MS);
	expect(table.inFlight(now)).toBe(0);
}
