import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Queued } from "../src/object/queue-order.ts";
import { AdaptiveQueue, codelSettings, nextWaiter, queueCap } from "../src/object/queue-order.ts";

/** Facebook's fixed CoDel settings (folly/executors/Codel.cpp), as a config that names both gives them. */
const FB = { targetMs: 5, intervalMs: 100 };

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
				const codel = new AdaptiveQueue(now);
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
						const mode = codel.mode(now, FB);
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
						(codel.shed(now - next.enqueuedAt, now, FB) ? shed : served).push(next.id);
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
		const codel = new AdaptiveQueue(0);
		const waiters: W[] = [0, 10, 20].map((t, id) => ({ id, priority: 0, gap: 0, enqueuedAt: t, blocked: false }));
		codel.observe(3, 0);
		expect(nextWaiter(waiters, codel.mode(99, FB), () => true)?.id).toBe(0);
		expect(codel.mode(100, FB)).toBe("lifo");
		expect(nextWaiter(waiters, codel.mode(100, FB), () => true)?.id).toBe(2);
		codel.observe(0, 150);
		expect(codel.mode(150, FB)).toBe("fifo");
	});

	it("Should shed waits above 2 × target only after a whole interval whose smallest wait stayed above the target (folly's Codel)", () => {
		const codel = new AdaptiveQueue(0);
		// A burst that drains fast: some wait long, but the smallest wait of the interval is under the target.
		expect(codel.shed(50, 10, FB)).toBe(false);
		expect(codel.shed(2, 20, FB)).toBe(false);
		expect(codel.shed(50, 100, FB)).toBe(false);
		// A standing queue: every wait of this interval is above the target, so the next interval sheds.
		expect(codel.shed(40, 150, FB)).toBe(false);
		expect(codel.shed(30, 200, FB)).toBe(true);
		expect(codel.shed(8, 210, FB)).toBe(false);
		expect(codel.shedding).toBe(true);
	});

	it("Should scale an unset target and interval to the mean hold time: a quarter of it (at least 5 ms), and at least 100 ms", () => {
		expect(codelSettings({}, 200)).toEqual({ targetMs: 50, intervalMs: 200 });
		expect(codelSettings({}, 2_000)).toEqual({ targetMs: 500, intervalMs: 2_000 });
		// A fast origin keeps Facebook's floor.
		expect(codelSettings({}, 1)).toEqual({ targetMs: 5, intervalMs: 100 });
		// A number in the config stays fixed, each on its own.
		expect(codelSettings(FB, 200)).toEqual(FB);
		expect(codelSettings({ targetMs: 20 }, 200)).toEqual({ targetMs: 20, intervalMs: 200 });
		expect(codelSettings({ intervalMs: 500 }, 200)).toEqual({ targetMs: 50, intervalMs: 500 });
	});

	it("Should, with a 200 ms mean hold and the auto target, keep a 40 ms wait while overloaded but shed a 120 ms one", () => {
		const auto = codelSettings({}, 200);
		const codel = new AdaptiveQueue(0);
		expect(codel.shed(150, 100, auto)).toBe(false);
		expect(codel.shed(80, 150, auto)).toBe(false);
		// The interval (200 ms) ended with 80 ms its smallest wait, above the 50 ms target: overloaded.
		expect(codel.shed(40, 210, auto)).toBe(false);
		expect(codel.shedding).toBe(true);
		expect(codel.shed(120, 220, auto)).toBe(true);
		// Facebook's fixed 5 ms target, in the same state, sheds both: every wait over 10 ms.
		const fixed = new AdaptiveQueue(0);
		fixed.shed(150, 50, FB);
		fixed.shed(80, 90, FB);
		expect(fixed.shed(40, 110, FB)).toBe(true);
		expect(fixed.shed(120, 120, FB)).toBe(true);
	});

	it("Should take the target and interval per call, so an auto queue follows the hold time as it changes", () => {
		const codel = new AdaptiveQueue(0);
		codel.observe(3, 0);
		// A 200 ms hold: a 200 ms interval, so no LIFO yet at 150 ms; a 1 s hold: not after 500 ms either.
		expect(codel.mode(150, codelSettings({}, 200))).toBe("fifo");
		expect(codel.mode(500, codelSettings({}, 1_000))).toBe("fifo");
		expect(codel.mode(500, codelSettings({}, 200))).toBe("lifo");
		// The interval that ends is the one in force at the call: 200 ms of a 2 s hold has not ended one.
		expect(codel.shed(300, 100, codelSettings({}, 2_000))).toBe(false);
		expect(codel.shed(300, 200, codelSettings({}, 2_000))).toBe(false);
		expect(codel.shedding).toBe(false);
		expect(codel.shed(300, 200, codelSettings({}, 100))).toBe(true);
	});

	it("Should bound each class's part of the queue by its headroom, at least one place", () => {
		expect(queueCap(100, 0)).toBe(100);
		expect(queueCap(100, 0.5)).toBe(50);
		expect(queueCap(3, 0.9)).toBe(1);
	});
});
