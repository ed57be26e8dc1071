import { describe, expect, it } from "vitest";
import type { Decision } from "../src/isolate/full-hints.ts";
import {
	consultHint,
	FORGET_MS,
	FullHints,
	freedFor,
	fullHints,
	hintKey,
	MAX_HINT_MS,
	MIN_HINT_MS,
	PROBE_MS,
} from "../src/isolate/full-hints.ts";
import { isolateCounters } from "../src/isolate/isolate-counters.ts";
import type { GaugeSpec } from "../src/isolate/permit-types.ts";
import { gate } from "./helpers/gate.ts";

const refused = (limit: number, retryAfterMs: number) => ({
	granted: false,
	full: true,
	limit,
	quota: limit,
	inFlight: limit,
	retryAfterMs,
});
const granted = (limit: number, inFlight: number) => ({ granted: true, full: false, limit, quota: limit, inFlight, retryAfterMs: 0 });
const refuses = (d: Decision) => "refuse" in d;

describe("FullHints", () => {
	it("asks the object while it knows nothing, and refuses for about as long as the object expects after a refusal", () => {
		const hints = new FullHints();
		expect(hints.check("g", 0)).toEqual({ probe: false });
		hints.answered("g", 1_000, false, refused(5, 70));
		expect(hints.check("g", 1_069)).toEqual({ refuse: expect.objectContaining({ limit: 5, freeAt: 1_070 }) });
		expect(hints.check("g", 1_070)).toEqual({ probe: true });
		hints.answered("short", 0, false, refused(5, 0));
		expect(refuses(hints.check("short", MIN_HINT_MS - 1))).toBe(true);
		expect(refuses(hints.check("short", MIN_HINT_MS))).toBe(false);
		hints.answered("long", 0, false, refused(5, 60_000));
		expect(refuses(hints.check("long", MAX_HINT_MS - 1))).toBe(true);
		expect(refuses(hints.check("long", MAX_HINT_MS))).toBe(false);
	});

	it("treats a grant that took the last permit as full", () => {
		const hints = new FullHints();
		hints.answered("g", 0, false, granted(3, 3));
		expect(refuses(hints.check("g", 1))).toBe(true);
	});

	it("after a hint lapses, lets one request probe and refuses the rest until its answer", () => {
		const hints = new FullHints();
		hints.answered("g", 0, false, refused(5, 50));
		expect(hints.check("g", 60)).toEqual({ probe: true });
		expect(refuses(hints.check("g", 61))).toBe(true);
		hints.answered("g", 70, true, refused(5, 50));
		expect(refuses(hints.check("g", 71))).toBe(true);
		// A probe that never answers stops counting after PROBE_MS; one whose call failed, at once.
		expect(hints.check("g", 130)).toEqual({ probe: true });
		expect(refuses(hints.check("g", 131))).toBe(true);
		expect(hints.check("g", 130 + PROBE_MS)).toEqual({ probe: true });
		hints.probeFailed("g");
		expect(hints.check("g", 131 + PROBE_MS)).toEqual({ probe: true });
	});

	it("lets as many requests ask as permits are believed free: one per local release, or as the object says", () => {
		const hints = new FullHints();
		hints.answered("g", 0, false, refused(5, 200));
		hints.freed("g", 10);
		hints.freed("g", 11);
		expect(hints.check("g", 12)).toEqual({ probe: true });
		expect(hints.check("g", 12)).toEqual({ probe: true });
		expect(refuses(hints.check("g", 12))).toBe(true);
		// One probe was granted and the object says 3 are free; the other probe is still out, so 2 more may ask.
		hints.answered("g", 13, true, granted(5, 2));
		const decisions = Array.from({ length: 5 }, () => hints.check("g", 14));
		expect(decisions.filter((d) => "probe" in d && d.probe)).toHaveLength(2);
	});

	it("forgets a hint long after it lapsed, and does nothing for gauges it never saw full", () => {
		const hints = new FullHints();
		hints.freed("unknown", 0);
		expect(hints.check("unknown", 1)).toEqual({ probe: false });
		hints.answered("old", 0, false, refused(5, 100));
		expect(hints.check("old", 100 + FORGET_MS + 1)).toEqual({ probe: false });
		expect(hints.size).toBe(0);
	});
});

describe("hints per class and per key, and the retry line", () => {
	const spec = (extra: Partial<GaugeSpec>): GaugeSpec => ({
		objectName: `route:hints-${crypto.randomUUID()}`,
		policy: "r",
		quota: 4,
		limit: 4,
		maxHoldMs: 60_000,
		queue: null,
		dryRun: false,
		cutGraceMs: 0,
		...extra,
	});
	const classRefusal = { granted: false, full: true, scope: "class" as const, limit: 4, quota: 4, inFlight: 2, retryAfterMs: 300 };

	it("Should refuse from memory only the class the object refused at its cap, and free a refused class's hint when a class below it frees a permit", () => {
		const headrooms = [0, 0.5];
		const critical = spec({ priority: { index: 0, headrooms } });
		const bulk = { ...critical, priority: { index: 1, headrooms } };
		const now = Date.now();
		fullHints.answered(hintKey(bulk), now, false, classRefusal);
		const refusedBulk = consultHint(bulk, now + 1).decision;
		expect(refusedBulk).toMatchObject({ refuse: { kind: "refused", local: true, classFull: true } });
		// The class above still asks the object.
		expect(consultHint(critical, now + 1).decision).toEqual({ probe: false });
		// The route full for the critical class: its hint too. A bulk permit freed here is room for it: one may probe.
		fullHints.answered(hintKey(critical), now, false, { ...classRefusal, scope: "full", inFlight: 4 });
		expect("refuse" in consultHint(critical, now + 1).decision).toBe(true);
		freedFor(bulk, now + 2);
		expect(consultHint(critical, now + 3).decision).toEqual({ probe: true });
		expect(consultHint(bulk, now + 3).decision).toEqual({ probe: true });
	});

	it("Should refuse from memory only the key the object held to its share, and let a key refused for a full route ask again once any key frees a permit here", () => {
		const base = spec({ fair: true });
		const a = { ...base, holder: "key:a" };
		const b = { ...base, holder: "key:b" };
		const c = { ...base, holder: "key:c" };
		const now = Date.now();
		fullHints.answered(hintKey(a), now, false, { ...classRefusal, scope: "key" });
		expect(consultHint(a, now + 1).decision).toMatchObject({ refuse: { local: true, overShare: true } });
		expect(consultHint(c, now + 1).decision).toEqual({ probe: false });
		fullHints.answered(hintKey(b), now, false, { ...classRefusal, scope: "full", inFlight: 4 });
		expect("refuse" in consultHint(b, now + 1).decision).toBe(true);
		// Key a gives a permit back in this isolate: b's "full" hint learns it; a's share hint learns it as its own.
		freedFor(a, now + 2);
		expect(consultHint(b, now + 3).decision).toEqual({ probe: true });
		expect(consultHint(a, now + 3).decision).toEqual({ probe: true });
		// b's probe is refused again (full); then b itself gives a permit back: one probe for it, not two.
		fullHints.answered(hintKey(b), now + 4, true, { ...classRefusal, scope: "full", inFlight: 4 }, `${b.objectName}`);
		freedFor(b, now + 5);
		expect(consultHint(b, now + 6).decision).toEqual({ probe: true });
		expect("refuse" in consultHint(b, now + 6).decision).toBe(true);
	});

	it("Should go on with the object's retry line for refusals made from memory: one slot each, after the object's own", () => {
		const hints = new FullHints();
		const line = { freeInMs: 1_000, slotMs: 200, capMs: 2_000 };
		hints.answered("g", 0, false, { ...refused(5, 1_400), line });
		const retries: number[] = [];
		for (let i = 0; i < 6; i++) {
			const d = hints.check("g", 10);
			if (!("refuse" in d)) throw new Error("expected a refusal from memory");
			retries.push(hints.retryAfter("g", 10, () => 0));
		}
		// The object's refusal took [1 400, 1 600): the next slots start at 1 600, then every 200 ms, up to the 2 s cap;
		// past it, anywhere between the free estimate and the cap (random 0: the free estimate).
		expect(retries).toEqual([1_590, 1_790, 990, 990, 990, 990]);
		// Without a line from the object (an older object), the free estimate, as before.
		hints.answered("old", 0, false, refused(5, 700));
		const d = hints.check("old", 10);
		expect("refuse" in d && hints.retryAfter("old", 10, () => 0.5)).toBe(690);
	});
});

describe("the cheap refusal path", () => {
	it("refuses a flood from the isolate's hint without Durable Object calls, and admits again as soon as this isolate releases", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 1 }] });
		const holder = await g.fetch("/stream?chunks=8&interval=40");
		expect((await g.fetch("/request?delay=0")).status).toBe(429);
		const refused = await Promise.all(Array.from({ length: 30 }, () => g.fetch("/request?delay=0")));
		expect(refused.map((r) => r.status)).toEqual(Array(30).fill(429));
		for (const r of refused) expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		// The grant that took the only permit said the gauge was full: the whole flood was answered here.
		expect((await g.status("h")).counters.refused).toBe(0);
		expect(isolateCounters(g.routeNames()[0] ?? "").localRefusals).toBe(31);
		await holder.arrayBuffer();
		const next = await g.fetch("/request?delay=0");
		expect(next.status).toBe(200);
		await next.arrayBuffer();
	});

	it("a grant clears the hint, so a burst below the limit is admitted in full", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 3 }] });
		const results = await Promise.all(Array.from({ length: 10 }, () => g.fetch("/request?delay=100")));
		expect(results.filter((r) => r.status === 200)).toHaveLength(3);
		await Promise.all(results.map((r) => r.arrayBuffer()));
		expect((await g.status("h")).inFlight).toBe(0);
	});

	it("sequential refusals reach the object once per hint", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 1 }] });
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		for (let i = 0; i < 10; i++) expect((await g.fetch("/request?delay=0")).status).toBe(429);
		expect((await g.status("h")).counters.refused).toBeLessThanOrEqual(2);
		await holder.arrayBuffer();
	});

	it("never answers from a hint for queued or dry-run routes", async () => {
		const g = gate({ routes: [{ name: "h", path: "/*", limit: 1, dryRun: true }] });
		const holder = await g.fetch("/stream?chunks=10&interval=50");
		for (let i = 0; i < 5; i++) await (await g.fetch("/request?delay=0")).text();
		expect((await g.status("h")).counters.dryRunRefused).toBe(5);
		expect(isolateCounters(g.routeNames()[0] ?? "").localRefusals).toBe(0);
		await holder.arrayBuffer();
	});
});
