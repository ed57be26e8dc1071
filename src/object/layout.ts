// A sharded route's layout record: which share of the route's total each shard may grant, changed only in
// steps that keep the route's total within its limit while configs with other layouts still run.
//
// Every acquire carries its config's layout (total, shards, lease length). Shard 0 (`route:<name>`) keeps the
// record: the layouts seen recently, the runtime override, the shares in force and the shares replaced not
// long ago. Every shard grants against the shares in force, never against the share its caller computed.
// While two layouts are seen (a rollout: old and new isolates side by side), the shares in force are the
// smaller of the two at each shard (a shard absent from a layout gets 0 there), so either layout alone stays
// within its limit. A change of shape (another shard count) that would raise some shard's share above what it
// held recently waits until no lease or copy of the replaced shares can still be out (COPY_TTL_MS + the longest
// lease): a shard that a shrink removed keeps counting its leases until they are gone. A runtime limit raised or
// lowered on one layout applies at once. Pure: the clock is passed in.

import type { Layout } from "../protocol.ts";
import { shareOf } from "../protocol.ts";

export type { Layout } from "../protocol.ts";
export { shareOf } from "../protocol.ts";

/** How long a shard may grant against its copy of the shares before it must ask shard 0 again. */
export const COPY_TTL_MS = 10_000;
/**
 * A layout not seen for this long, while another one was, has no isolate left (the rollout is over); a layout with
 * longer leases stays until its last lease can have ended (see `retireAfterMs`).
 */
export const RETIRE_AFTER_MS = 60_000;
/** Slack for calls in flight and clocks that differ between objects. */
const MARGIN_MS = 1_000;

/** What a shard needs to grant: its share, and the route's total in force. */
export interface LayoutCopy {
	readonly shares: readonly number[];
	/** The layouts the record knows, by layoutKey: a shard asks again when it sees another one. */
	readonly layouts: readonly string[];
}

export interface LayoutState {
	override: number | null;
	proposals: { total: number; shards: number; leaseMs: number; seenAt: number }[];
	shares: number[];
	/** Shares replaced recently: leases or copies of them may still be out until `until`. */
	past: { shares: number[]; until: number }[];
	/** The longest lease any layout ever asked for: how long a replaced share's leases may live. */
	maxLeaseMs: number;
}

export function layoutKey(layout: Pick<Layout, "total" | "shards">): string {
	return `${layout.total}/${layout.shards}`;
}

/** The sum of a share vector: the route's total in force. */
export function totalOf(shares: readonly number[]): number {
	return shares.reduce((a, b) => a + b, 0);
}

export function emptyLayoutState(override: number | null = null): LayoutState {
	return { override, proposals: [], shares: [], past: [], maxLeaseMs: 0 };
}

export class LayoutRecord {
	readonly state: LayoutState;

	constructor(state: LayoutState) {
		this.state = state;
	}

	copy(): LayoutCopy {
		return { shares: [...this.state.shares], layouts: this.state.proposals.map(layoutKey) };
	}

	/**
	 * Notes that a config with this layout is running (a caller brought it at `seenAt`, `now` by default).
	 * Returns true when the shares in force changed.
	 */
	propose(layout: Layout, now: number, seenAt = now): boolean {
		const s = this.state;
		const known = s.proposals.find((p) => p.total === layout.total && p.shards === layout.shards);
		if (known) {
			known.seenAt = Math.max(known.seenAt, seenAt);
			known.leaseMs = Math.max(known.leaseMs, layout.leaseMs);
		} else {
			s.proposals.push({ total: layout.total, shards: layout.shards, leaseMs: layout.leaseMs, seenAt });
		}
		s.maxLeaseMs = Math.max(s.maxLeaseMs, layout.leaseMs);
		return this.settle(now);
	}

	/** Sets (a number) or clears (null) the runtime limit: a route total that replaces every layout's own. */
	setOverride(total: number | null, now: number): boolean {
		this.state.override = total;
		return this.settle(now);
	}

	/**
	 * Retires layouts no longer seen, forgets replaced shares nothing can hold any more, and moves the shares
	 * in force toward the target as far as is safe now. Returns true when the shares in force changed.
	 */
	settle(now: number): boolean {
		const s = this.state;
		const newest = Math.max(...s.proposals.map((p) => p.seenAt));
		s.proposals = s.proposals.filter((p) => newest - p.seenAt <= retireAfterMs(p));
		s.past = s.past.filter((p) => p.until > now);
		if (s.proposals.length === 0) return false;
		const target = this.target();
		if (same(target, s.shares)) return false;
		// Leases granted under any share vector still in the window may be out, so a shard may hold up to the
		// largest of its shares there. Keeping those vectors a chain (each one at or above, or at or below, another
		// at every shard) keeps that sum at the largest limit among them. A target that would break the chain
		// waits; meanwhile the shares drop to what is below them all, which admits nothing new anywhere.
		const held = [s.shares, ...s.past.map((p) => p.shares)];
		const next = held.every((v) => atLeast(target, v) || atLeast(v, target)) ? target : lowest([target, ...held]);
		if (same(next, s.shares)) return false;
		s.past.push({ shares: s.shares, until: now + COPY_TTL_MS + s.maxLeaseMs + MARGIN_MS });
		s.shares = trim(next);
		return true;
	}

	/** Each shard's smallest share over the layouts in use (0 where a layout has no such shard). */
	private target(): number[] {
		const s = this.state;
		const width = Math.max(...s.proposals.map((p) => p.shards));
		return trim(
			Array.from({ length: width }, (_, i) =>
				Math.min(...s.proposals.map((p) => (i < p.shards ? shareOf(s.override ?? p.total, p.shards, i) : 0))),
			),
		);
	}
}

/**
 * How long a layout stays in force unseen. Every grant or renewal of its leases is a sighting (a renewal reaches the
 * record before it is granted, see ShardShares.confirm), so a lease renewed at its last sighting lives at most
 * `leaseMs` past it: until then the layout's shares must stay in force, or a removed shard's renewed leases (held
 * WebSockets with maxHoldMs above a minute) would count beside the new layout's full shares.
 */
export function retireAfterMs(layout: Pick<Layout, "leaseMs">): number {
	return Math.max(RETIRE_AFTER_MS, layout.leaseMs + COPY_TTL_MS + MARGIN_MS);
}

/** True when `a` is at or above `b` at every shard. */
function atLeast(a: readonly number[], b: readonly number[]): boolean {
	const width = Math.max(a.length, b.length);
	for (let i = 0; i < width; i++) if ((a[i] ?? 0) < (b[i] ?? 0)) return false;
	return true;
}

/** Each shard's smallest share over the vectors. */
function lowest(vectors: readonly (readonly number[])[]): number[] {
	const width = Math.max(...vectors.map((v) => v.length));
	return Array.from({ length: width }, (_, i) => Math.min(...vectors.map((v) => v[i] ?? 0)));
}

function same(a: readonly number[], b: readonly number[]): boolean {
	const width = Math.max(a.length, b.length);
	for (let i = 0; i < width; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return false;
	return true;
}

/** Drops trailing zeros: a shard past the end holds nothing. */
function trim(shares: number[]): number[] {
	let end = shares.length;
	while (end > 0 && shares[end - 1] === 0) end--;
	return shares.slice(0, end);
}
