// Requests waiting for a permit, first in first out, each with its own deadline.
import type { AcquireRequest, AcquireResult } from "./lease-table.ts";

export interface Waiter {
	readonly req: AcquireRequest;
	/** Settles the waiter's pending acquire. */
	readonly resolve: (result: AcquireResult) => void;
	readonly timer: ReturnType<typeof setTimeout>;
	/** When it began to wait (the object's clock), for LIFO and CoDel. */
	readonly at?: number;
}

export class WaitQueue {
	private readonly waiters: Waiter[] = [];

	get length(): number {
		return this.waiters.length;
	}

	push(waiter: Waiter): void {
		this.waiters.push(waiter);
	}

	peek(): Waiter | undefined {
		return this.waiters[0];
	}

	shift(): Waiter | undefined {
		const waiter = this.waiters.shift();
		if (waiter) clearTimeout(waiter.timer);
		return waiter;
	}

	/** Every waiter, oldest first. */
	all(): readonly Waiter[] {
		return this.waiters;
	}

	/** Waiters per holder (null: none), for a fair route's demand. */
	holders(): Map<string | null, number> {
		const counts = new Map<string | null, number>();
		for (const w of this.waiters) counts.set(w.req.holder ?? null, (counts.get(w.req.holder ?? null) ?? 0) + 1);
		return counts;
	}

	/** Takes a waiter out wherever it stands (deadline passed, caller gone). */
	remove(leaseId: string): Waiter | undefined {
		const i = this.waiters.findIndex((w) => w.req.leaseId === leaseId);
		if (i < 0) return undefined;
		const [waiter] = this.waiters.splice(i, 1);
		if (waiter) clearTimeout(waiter.timer);
		return waiter;
	}
}
