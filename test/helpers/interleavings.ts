// Random interleavings of acquire, release, time passing and restarts, checked against the gauge's invariants.
import fc from "fast-check";
import { expect } from "vitest";
import type { LeaseTable } from "../../src/object/lease-table.ts";

export type Op =
	| { kind: "acquire"; id: number }
	/** With graceMs > 0, a cut exchange's release: counted that much longer (cutRelease). */
	| { kind: "release"; id: number; graceMs: number }
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
			{
				weight: 3,
				arbitrary: fc.record({
					kind: fc.constant("release" as const),
					id: fc.nat(11),
					graceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_500 })),
				}),
			},
			{ weight: 2, arbitrary: fc.record({ kind: fc.constant("renew" as const), id: fc.nat(11) }) },
			{ weight: 2, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 700 }) }) },
			{ weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const) }) },
		),
		{ maxLength: 60 },
	),
});

/**
 * Runs the operations on a table. `open` builds a table over the same storage (a restart keeps the
 * storage, loses memory). After every step: never more than `limit` counted, the table's count equals the
 * leases granted and neither released nor expired (a graced release stays counted until its grace ends),
 * "full" only when they really fill the limit, and only leases never given back are reaped.
 * A renewal succeeds exactly for a live lease and never brings back a released or expired one.
 * At the end, releasing every held lease brings the count back to zero.
 */
export function runScenario(limit: number, ops: readonly Op[], open: () => LeaseTable): void {
	let table = open();
	let now = 0;
	// Counted leases: granted, not released, or released with a grace that has not ended.
	const held = new Map<string, { expiry: number; ending: boolean }>();
	let leaked = 0;
	let reapedBefore = 0;
	const live = (): number => [...held.values()].filter((l) => l.expiry > now).length;

	for (const op of ops) {
		if (op.kind === "advance") now += op.ms;
		else if (op.kind === "restart") {
			reapedBefore += table.counters.reaped;
			table = open();
		} else if (op.kind === "acquire") {
			const id = `lease-${op.id}`;
			const before = live();
			const result = table.acquire({ leaseId: id, limit, maxHoldMs: HOLD_MS }, now);
			if (result.ok) {
				const lease = held.get(id);
				expect(lease?.ending).not.toBe(true);
				if (!lease || lease.expiry <= now) held.set(id, { expiry: result.expiresAt, ending: false });
			} else if (result.reason === "full") {
				expect(before).toBeGreaterThanOrEqual(limit);
			}
		} else if (op.kind === "renew") {
			const id = `lease-${op.id}`;
			const lease = held.get(id);
			// Only a live lease renews: never one that expired, nor one given back (even while its grace counts it).
			const alive = lease !== undefined && !lease.ending && lease.expiry > now;
			expect(table.renew(id, now, HOLD_MS)).toBe(alive);
			if (lease && alive) held.set(id, { expiry: Math.max(lease.expiry, now + HOLD_MS), ending: false });
		} else {
			const id = `lease-${op.id}`;
			table.release(id, now, HOLD_MS, op.graceMs);
			const lease = held.get(id);
			if (lease && !lease.ending && lease.expiry > now) {
				if (op.graceMs > 0) held.set(id, { expiry: Math.min(lease.expiry, now + op.graceMs), ending: true });
				else held.delete(id);
			}
		}
		const counted = table.inFlight(now);
		for (const [id, lease] of held) {
			if (lease.expiry > now) continue;
			if (!lease.ending) leaked++;
			held.delete(id);
		}
		expect(counted).toBeLessThanOrEqual(limit);
		expect(counted).toBe(live());
		expect(reapedBefore + table.counters.reaped).toBe(leaked);
	}
	for (const [id, lease] of held) if (!lease.ending) table.release(id, now, HOLD_MS);
	now += HOLD_MS;
	expect(table.inFlight(now)).toBe(0);
}
