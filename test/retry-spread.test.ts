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
