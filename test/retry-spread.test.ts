// Refused clients are told different Retry-Afters, by their place in line (issue 21).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADAPTIVE_DEFAULTS } from "../src/adaptive/settings.ts";
import type { Gauge } from "../src/object/durable-object.ts";
import type { AcquireResult } from "../src/protocol.ts";
import { gate } from "./helpers/gate.ts";

const HOLD = 60_000;

/** A fresh gauge whose clock stands still (tests move it) and whose clients always land at the start of their slot. */
async function frozenGauge() {
	const stub = env.GAUGE.getByName(`retry-spread-${crypto.randomUUID()}`);
	await runInDurableObject(stub, (instance: Gauge) => {
		const t = Date.now();
		instance.clock = () => t;
		instance.random = () => 0;
	});
	return stub;
}

describe("Retry-After by place in line", () => {
	it("Should tell each client refused in one hold time a later slot (limit 2, 1 s holds: 500 ms apart)", async () => {
		const stub = await frozenGauge();
		for (const id of ["a", "b"]) expect(await stub.acquire({ leaseId: id, limit: 2, maxHoldMs: HOLD })).toMatchObject({ ok: true });
		const refused: AcquireResult[] = [];
		for (let i = 0; i < 4; i++) refused.push(await stub.acquire({ leaseId: `r${i}`, limit: 2, maxHoldMs: HOLD }));
		// Before any release the average hold is 1 s: the leases, taken now, should end in 1 s; then one slot each.
		expect(refused.map((r) => (r.ok ? null : r.retryAfterMs))).toEqual([1_000, 1_500, 2_000, 2_500]);
		// 1.5 s later the first comes back and is refused again: it goes to the line's end (3 s), not to its front.
		await runInDurableObject(stub, (instance: Gauge) => {
			const later = instance.clock() + 1_500;
			instance.clock = () => later;
		});
		const again = await stub.acquire({ leaseId: "r0-again", limit: 2, maxHoldMs: HOLD });
		expect(again.ok ? null : again.retryAfterMs).toBe(1_500);
	});

	it("Should put a key over its fair share in the longer line even while the route is full, never ahead of a key under its share", async () => {
		const stub = await frozenGauge();
		const ask = (leaseId: string, holder: string) => stub.acquire({ leaseId, limit: 4, maxHoldMs: HOLD, fair: true, holder });
		for (const id of ["h1", "h2", "h3"]) expect(await ask(id, "key:heavy")).toMatchObject({ ok: true });
		expect(await ask("l1", "key:light")).toMatchObject({ ok: true });
		// The route is full; the light key's refusal makes it contended (its share: 1 of 4, the heavy key's: 3).
		expect(await ask("l2", "key:light")).toMatchObject({ ok: false, reason: "full" });
		const heavy: AcquireResult[] = [];
		for (let i = 0; i < 20; i++) heavy.push(await ask(`hx${i}`, "key:heavy"));
		expect(heavy.every((r) => !r.ok && r.reason === "over-share")).toBe(true);
		const light = await ask("l3", "key:light");
		expect(light).toMatchObject({ ok: false, reason: "full" });
		// Twenty refusals of the heavy key did not push the light key back: it is next in its own line, 1 s + 1 slot.
		expect(light.ok ? null : light.retryAfterMs).toBe(1_250);
		// The heavy key's line has slots twice as long: 1 s, 1.5 s, 2 s, ...
		expect(heavy.slice(0, 3).map((r) => (r.ok ? null : r.retryAfterMs))).toEqual([1_000, 1_500, 2_000]);
	});

	it("Should pace an adaptive route's line by its ceiling, not by the limit it has learned so far", async () => {
		const stub = await frozenGauge();
		const adaptive = { ...ADAPTIVE_DEFAULTS, min: 2, max: 20, initial: 2 };
		const ask = (leaseId: string) => stub.acquire({ leaseId, limit: 20, maxHoldMs: HOLD, adaptive });
		for (const id of ["a", "b"]) expect(await ask(id)).toMatchObject({ ok: true, limit: 2 });
		const refused = [await ask("r0"), await ask("r1")];
		// 1 s holds before any release: a slot of 1 s ÷ 20 (the ceiling) = 50 ms, not 1 s ÷ 2 = 500 ms.
		expect(refused.map((r) => (r.ok ? null : r.retryAfterMs))).toEqual([1_000, 1_050]);
	});

	it("Should tell the isolate, with the grant that takes the last permit, where the retry line starts", async () => {
		const stub = await frozenGauge();
		const first = await stub.acquire({ leaseId: "a", limit: 2, maxHoldMs: HOLD });
		expect(first.ok && first.line).toBeUndefined();
		const last = await stub.acquire({ leaseId: "b", limit: 2, maxHoldMs: HOLD });
		expect(last).toMatchObject({ ok: true, line: { freeInMs: 1_000, slotMs: 500 } });
	});

	it("Should keep RateLimit's t equal to Retry-After on a refusal through the gate", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 1 }] });
		const held = await g.fetch("/stream?chunks=10&interval=50");
		const refusals = await Promise.all([1, 2, 3].map(() => g.fetch("/request?delay=0")));
		for (const res of refusals) {
			expect(res.status).toBe(429);
			const seconds = res.headers.get("retry-after");
			expect(res.headers.get("ratelimit")).toMatch(new RegExp(`;t=${seconds}$`));
			await res.text();
		}
		await held.arrayBuffer();
	});
});
