import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Queued } from "../src/object/queue-order.ts";
import { AdaptiveQueue, nextWaiter, queueCap } from "../src/object/queue-order.ts";

interface W extends Queued {
	readonly id: number;
	/** The waiter's class or key may not take a permit yet. */
	blocked: boolean;
}

const event = fc.oneof(
	fc.record({
		kind: fc.constant("enqueue" as const),
		priority: fc.integer({ min: 0, max: 3 }),
		gap: fc.integer({ min: -2, max: 3 }),
		blocked: fc.boolean(),
	}),
	fc.record({ kind: fc.constant("free" as const) }),
	fc.record({ kind: fc.constant("unblock" as const), pick: fc.nat() }),
	fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 60 }) }),
);

describe("queue order: class, then fair share, then time", () => {
	it("Should never give a freed permit to a lower class while an eligible higher one waits, and lose no waiter", () => {
		fc.assert(
			fc.property(fc.array(event, { minLength: 10, maxLength: 300 }), (events) => {
				let now = 0;
				let ids = 0;
				const codel = new AdaptiveQueue(undefined, now);
				const queue: W[] = [];
				const served: number[] = [];
				const shed: number[] = [];
				for (const e of events) {
					if (e.kind === "tick") now += e.ms;
					else if (e.kind === "enqueue") queue.push({ id: ids++, priority: e.priority, gap: e.gap, enqueuedAt: now, blocked: e.blocked });
					else if (e.kind === "unblock") {
						const w = queue[e.pick % Math.max(1, queue.length)];
						if (w) w.blocked = false;
					} else {
						const mode = codel.mode(now);
						const next = nextWaiter(queue, mode, (w) => !w.blocked);
						const eligible = queue.filter((w) => !w.blocked);
						if (!next) {
							expect(eligible).toEqual([]);
							continue;
						}
						expect(next.blocked).toBe(false);
						expect(Math.min(...eligible.map((w) => w.priority))).toBe(next.priority);
						// Within its class, no eligible waiter's key is further below its share.
						expect(Math.max(...eligible.filter((w) => w.priority === next.priority).map((w) => w.gap))).toBe(next.gap);
						queue.splice(queue.indexOf(next), 1);
						(codel.shed(now - next.enqueuedAt, now) ? shed : served).push(next.id);
					}
					codel.observe(queue.length, now);
				}
				// Every waiter is served, shed or still waiting: exactly one of the three.
				const ended = [...served, ...shed, ...queue.map((w) => w.id)].sort((a, b) => a - b);
				expect(ended).toEqual(Array.from({ length: ids }, (_, i) => i));
			}),
			{ numRuns: 500 },
		);
	});

	it("Should serve oldest first, then newest first once the queue has not been empty for an interval", () => {
		const codel = new AdaptiveQueue({ targetMs: 5, intervalMs: 100 }, 0);
		const waiters: W[] = [0, 10, 20].map((t, id) => ({ id, priority: 0, gap: 0, enqueuedAt: t, blocked: false }));
		codel.observe(3, 0);
		expect(nextWaiter(waiters, codel.mode(99), () => true)?.id).toBe(0);
		expect(codel.mode(100)).toBe("lifo");
		expect(nextWaiter(waiters, codel.mode(100), () => true)?.id).toBe(2);
		codel.observe(0, 150);
		expect(codel.mode(150)).toBe("fifo");
	});

	it("Should shed waits above 2 × target only after a whole interval whose smallest wait stayed above the target (folly's Codel)", () => {
		const codel = new AdaptiveQueue({ targetMs: 5, intervalMs: 100 }, 0);
		// A burst that drains fast: some wait long, but the smallest wait of the interval is under the target.
		expect(codel.shed(50, 10)).toBe(false);
		expect(codel.shed(2, 20)).toBe(false);
		expect(codel.shed(50, 100)).toBe(false);
		// A standing queue: every wait of this interval is above the target, so the next interval sheds.
		expect(codel.shed(40, 150)).toBe(false);
		expect(codel.shed(30, 200)).toBe(true);
		expect(codel.shed(8, 210)).toBe(false);
		expect(codel.shedding).toBe(true);
	});

	it("Should bound each class's part of the queue by its headroom, at least one place", () => {
		expect(queueCap(100, 0)).toBe(100);
		expect(queueCap(100, 0.5)).toBe(50);
		expect(queueCap(3, 0.9)).toBe(1);
	});
});
