// Refused clients are told different Retry-Afters, by their place in line (issue 21).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Gauge } from "../src/object/durable-object.ts";
import type { AcquireResult } from "../src/protocol.ts";
import { gate } from "./helpers/gate.ts";

const HOLD = 60_000;

describe("Retry-After by place in line", () => {
	it("Should tell each client refused in one hold time a later slot (limit 2, 1 s holds: 500 ms apart)", async () => {
		const stub = env.GAUGE.getByName(`retry-spread-${crypto.randomUUID()}`);
		await runInDurableObject(stub, (instance: Gauge) => {
			const t = Date.now();
			instance.clock = () => t;
			instance.random = () => 0;
		});
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

	it("Should tell the isolate, with the grant that takes the last permit, where the retry line starts", async () => {
		const stub = env.GAUGE.getByName(`retry-spread-${crypto.randomUUID()}`);
		await runInDurableObject(stub, (instance: Gauge) => {
			const t = Date.now();
			instance.clock = () => t;
		});
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
