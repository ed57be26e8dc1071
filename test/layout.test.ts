import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Layout } from "../src/object/layout.ts";
import { COPY_TTL_MS, emptyLayoutState, LayoutRecord, RETIRE_AFTER_MS, totalOf } from "../src/object/layout.ts";

const LEASE_MS = 5_000;
const layout = (total: number, shards: number): Layout => ({ total, shards, leaseMs: LEASE_MS });
/** Past this, no lease or copy of replaced shares can still be out. */
const WINDOW_MS = COPY_TTL_MS + LEASE_MS + 1_000;

describe("the layout record", () => {
	it("takes the first layout's shares at once", () => {
		const record = new LayoutRecord(emptyLayoutState());
		expect(record.propose(layout(6, 2), 0)).toBe(true);
		expect(record.state.shares).toEqual([3, 3]);
	});

	it("while two layouts run, grants each shard the smaller of its shares (0 where a layout has no such shard)", () => {
		const record = new LayoutRecord(emptyLayoutState());
		record.propose(layout(6, 2), 0);
		record.propose(layout(6, 3), 1);
		expect(record.state.shares).toEqual([2, 2]);
		record.propose(layout(10, 3), 2);
		expect(totalOf(record.state.shares)).toBeLessThanOrEqual(6);
	});

	it("retires a layout no longer seen, and raises shares only once no lease of the larger old ones can be left", () => {
		const record = new LayoutRecord(emptyLayoutState());
		record.propose(layout(6, 2), 0);
		record.propose(layout(6, 3), 0);
		// The old config is gone: only the new one is seen from now on.
		const gone = RETIRE_AFTER_MS + 1;
		record.propose(layout(6, 3), gone);
		expect(record.state.proposals.map((p) => p.shards)).toEqual([3]);
		// (3, 3) were replaced at 0: their leases are long gone, so (2, 2, 2) applies at once.
		expect(record.state.shares).toEqual([2, 2, 2]);
	});

	it("a reshard within the window of a replaced, larger share waits for it", () => {
		const record = new LayoutRecord(emptyLayoutState());
		record.propose(layout(6, 3), 0);
		record.propose(layout(6, 2), 100);
		expect(record.state.shares).toEqual([2, 2]);
		// (2, 2, 2) was replaced at 100: shard #2 may hold leases until 100 + WINDOW_MS.
		record.propose(layout(6, 2), RETIRE_AFTER_MS + 200);
		expect(record.state.proposals).toHaveLength(1);
		if (RETIRE_AFTER_MS + 200 < 100 + WINDOW_MS) expect(record.state.shares).toEqual([2, 2]);
		record.propose(layout(6, 2), RETIRE_AFTER_MS + 200 + WINDOW_MS);
		expect(record.state.shares).toEqual([3, 3]);
	});

	it("raises the limit of one layout at once, and lowers it at once", () => {
		const record = new LayoutRecord(emptyLayoutState());
		record.propose(layout(6, 3), 0);
		record.setOverride(9, 1);
		expect(record.state.shares).toEqual([3, 3, 3]);
		record.setOverride(4, 2);
		expect(record.state.shares).toEqual([2, 1, 1]);
		record.setOverride(null, 3);
		expect(record.state.shares).toEqual([2, 2, 2]);
	});
});

type Op =
	/** Which configs run now: by shard count; two of them is a rollout. */
	| { kind: "deploy"; shards: readonly number[] }
	/** A request of the `config`-th running config reaches shard `pick` of its layout and asks for a permit. */
	| { kind: "request"; config: number; pick: number }
	| { kind: "release"; n: number }
	/** A long-lived lease (a held WebSocket) renews: the renewal reaches the record, then extends the lease. */
	| { kind: "renew"; n: number }
	| { kind: "override"; limit: number | null }
	| { kind: "advance"; ms: number };

const MAX_SHARDS = 3;
const shardCounts = fc.integer({ min: 1, max: MAX_SHARDS });
const ops = fc.array(
	fc.oneof(
		{
			weight: 1,
			arbitrary: fc.record({ kind: fc.constant("deploy" as const), shards: fc.uniqueArray(shardCounts, { minLength: 1, maxLength: 2 }) }),
		},
		{ weight: 10, arbitrary: fc.record({ kind: fc.constant("request" as const), config: fc.nat(1), pick: fc.nat(MAX_SHARDS - 1) }) },
		{ weight: 1, arbitrary: fc.record({ kind: fc.constant("release" as const), n: fc.nat(20) }) },
		{ weight: 3, arbitrary: fc.record({ kind: fc.constant("renew" as const), n: fc.nat(20) }) },
		{ weight: 1, arbitrary: fc.record({ kind: fc.constant("override" as const), limit: fc.option(fc.integer({ min: 1, max: 9 })) }) },
		{
			weight: 2,
			arbitrary: fc.record({
				kind: fc.constant("advance" as const),
				ms: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(COPY_TTL_MS, RETIRE_AFTER_MS + 1, 2 * RETIRE_AFTER_MS)),
			}),
		},
	),
	{ maxLength: 150 },
);

/** Shards as the objects run them: shard 0 holds the record, the others a copy they refresh (see shard-shares.ts). */
function simulate(total: number, leaseMs: number, steps: readonly Op[]): void {
	const record = new LayoutRecord(emptyLayoutState());
	const copies: ({ shares: readonly number[]; layouts: readonly string[]; validUntil: number } | null)[] = Array(MAX_SHARDS).fill(null);
	let leases: { shard: number; shards: number; expiresAt: number }[] = [];
	let now = 0;
	let running: readonly number[] = [2];
	let override: number | null = null;
	const windowMs = COPY_TTL_MS + leaseMs + 1_000;
	// Limits in force earlier, and until when leases or copies granted under them may be out.
	const earlier: { limit: number; until: number }[] = [];
	for (const op of steps) {
		if (op.kind === "deploy") running = op.shards;
		else if (op.kind === "request") {
			const shards = running[op.config % running.length] ?? 1;
			const mine: Layout = { total, shards, leaseMs };
			const shard = op.pick % shards;
			let share: number;
			if (shard === 0) {
				record.propose(mine, now);
				share = record.state.shares[0] ?? 0;
			} else {
				let copy = copies[shard];
				if (!copy || now >= copy.validUntil || !copy.layouts.includes(`${total}/${shards}`)) {
					record.propose(mine, now);
					copy = { ...record.copy(), validUntil: now + COPY_TTL_MS };
					copies[shard] = copy;
				}
				share = copy.shares[shard] ?? 0;
			}
			if (leases.filter((l) => l.shard === shard).length < share) leases.push({ shard, shards, expiresAt: now + leaseMs });
		} else if (op.kind === "release") leases.splice(op.n % Math.max(1, leases.length), 1);
		else if (op.kind === "renew") {
			// Gauge.renew: the shard confirms with the record (shard 0 notes it; another asks shard 0, carrying it).
			const lease = leases[op.n % Math.max(1, leases.length)];
			if (lease) {
				record.propose({ total, shards: lease.shards, leaseMs }, now);
				if (lease.shard !== 0) copies[lease.shard] = { ...record.copy(), validUntil: now + COPY_TTL_MS };
				lease.expiresAt = now + leaseMs;
			}
		} else if (op.kind === "override") {
			earlier.push({ limit: override ?? total, until: now + windowMs });
			override = op.limit;
			record.setOverride(op.limit, now);
		} else {
			now += op.ms;
			leases = leases.filter((l) => l.expiresAt > now);
		}
		const bound = Math.max(override ?? total, ...earlier.filter((l) => l.until > now).map((l) => l.limit));
		expect(leases.length).toBeLessThanOrEqual(bound);
		expect(totalOf(record.state.shares)).toBeLessThanOrEqual(override ?? total);
	}
}

describe("the layout protocol under random rollouts, reshards and runtime limits (fast-check)", () => {
	it("a shrink whose old layout retires while a removed shard's long leases are out (the example that motivated the window)", () => {
		const fill = (pick: number, n: number): Op[] => Array.from({ length: n }, () => ({ kind: "request", config: 0, pick }));
		const steps: Op[] = [
			{ kind: "deploy", shards: [3] },
			...fill(0, 2),
			...fill(1, 2),
			...fill(2, 2),
			{ kind: "deploy", shards: [2] },
			{ kind: "request", config: 0, pick: 0 },
			{ kind: "advance", ms: RETIRE_AFTER_MS + 1 },
			...fill(0, 3),
			...fill(1, 3),
		];
		simulate(6, 150_000, steps);
	});

	it("a removed shard's sockets renewing every lease / 3 keep the old layout in force after RETIRE_AFTER_MS unseen", () => {
		const request = (pick: number): Op => ({ kind: "request", config: 0, pick });
		// Two sockets on shard 2 of the 3-shard layout; then only the 2-shard config runs, and the sockets renew.
		const steps: Op[] = [{ kind: "deploy", shards: [3] }, request(2), request(2), request(0), { kind: "deploy", shards: [2] }, request(0)];
		for (let round = 0; round < 4; round++)
			steps.push({ kind: "advance", ms: 50_000 }, { kind: "renew", n: 0 }, { kind: "renew", n: 1 }, request(0), request(1));
		// The old layout unseen for just over RETIRE_AFTER_MS, its sockets' leases still live: the new shares must wait.
		steps.push(
			{ kind: "advance", ms: RETIRE_AFTER_MS + 1 },
			request(0),
			...Array.from({ length: 3 }, () => [request(0), request(1)]).flat(),
		);
		simulate(6, 150_000, steps);
	});

	it("never has more leases out than the highest limit in force within the last copy lifetime + lease, leases renewing or not", () => {
		// Leases shorter and longer than RETIRE_AFTER_MS: only the window keeps the long ones safe.
		fc.assert(fc.property(fc.integer({ min: MAX_SHARDS, max: 6 }), fc.constantFrom(5_000, 150_000), ops, simulate), { numRuns: 10_000 });
	});
});
