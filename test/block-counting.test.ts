// The isolate's side of blocks against a real Gauge object, with check-ins the test can hold in flight: every
// decision counted once, whatever happens in the isolate while a check-in is on its way.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { GaugeNamespace } from "../src/gauge-rpc.ts";
import { acquireFromBlock } from "../src/isolate/blocks.ts";
import { MAX_HINT_MS } from "../src/isolate/full-hints.ts";
import type { GaugeSpec, PermitResult, Renewable } from "../src/isolate/permit-types.ts";
import type { CheckIn } from "../src/protocol.ts";

/** The real namespace; `beforeCheckIn` runs before each checkIn reaches the object (the call is then in flight). */
function heldNamespace() {
	const hooks = { beforeCheckIn: null as null | ((msg: CheckIn) => void | Promise<void>) };
	const namespace = {
		getByName: (name: string) => {
			const stub = env.GAUGE.getByName(name);
			return new Proxy(stub, {
				get(target, method: string) {
					const value = Reflect.get(target, method);
					if (method !== "checkIn" || typeof value !== "function") return value;
					return async (msg: CheckIn) => {
						await hooks.beforeCheckIn?.(msg);
						return Reflect.apply(value, target, [msg]);
					};
				},
			});
		},
	} as unknown as GaugeNamespace;
	return { namespace, hooks };
}

function spec(limit: number): GaugeSpec {
	return {
		objectName: `route:counting-${crypto.randomUUID()}`,
		policy: "r",
		quota: limit,
		limit,
		maxHoldMs: 5_000,
		queue: null,
		dryRun: false,
		cutGraceMs: 0,
		blocks: { max: limit, returnAfterMs: 100, windowMs: 1_000 },
	};
}

describe("blocks: decisions counted once", () => {
	it("a request the object refused is not admitted by the isolate when a permit freed while the check-in was in flight", async () => {
		const { namespace, hooks } = heldNamespace();
		const s = spec(6);
		const stub = env.GAUGE.getByName(s.objectName);
		// Another isolate holds 2 of the 6 (single leases), so this one's block cannot grow past 4.
		for (const leaseId of ["other-1", "other-2"]) expect((await stub.acquire({ leaseId, limit: 6, maxHoldMs: 5_000 })).ok).toBe(true);
		const pending: Promise<unknown>[] = [];
		const waitUntil = (p: Promise<unknown>): void => void pending.push(p);
		const held: Renewable[] = [];
		const settle = async (): Promise<void> => {
			while (pending.length > 0) await Promise.allSettled(pending.splice(0));
		};
		// Fill the rest of the limit with this isolate's block, one request at a time.
		for (let i = 0; i < 12 && held.length < 4; i++) {
			const r = await acquireFromBlock(namespace, s, waitUntil);
			if (r?.kind === "granted") held.push(r.permit);
			await settle();
		}
		expect(held.length).toBe(4);
		expect((await stub.status()).inFlight).toBe(6);
		// The grant that took the last permit left a "full" hint; once it lapses, the next request asks the object.
		await new Promise((resolve) => setTimeout(resolve, MAX_HINT_MS + 50));
		// The fifth finds the pool dry; while its check-in is on its way, one of the four ends.
		hooks.beforeCheckIn = async () => {
			hooks.beforeCheckIn = null;
			await held.shift()?.release("delivered");
		};
		const fifth: PermitResult | null = await acquireFromBlock(namespace, s, waitUntil);
		await settle();
		expect(fifth).not.toBeNull();
		const status = await stub.status();
		// Either the object's refusal stands (counted once), or the request is admitted and counted as no refusal.
		if (fifth?.kind === "granted") expect(status.counters.refused).toBe(0);
		else expect(status.counters.refused).toBe(1);
		for (const p of held) await p.release("delivered");
		if (fifth?.kind === "granted") await fifth.permit.release("delivered");
		await settle();
	});

	it("the last request hands the block back even when a renewal was still in flight as the isolate went idle", async () => {
		const { namespace, hooks } = heldNamespace();
		const s = spec(40);
		const pending: Promise<unknown>[] = [];
		const waitUntil = (p: Promise<unknown>): void => void pending.push(p);
		const r = await acquireFromBlock(namespace, s, waitUntil);
		if (r?.kind !== "granted") throw new Error("not granted");
		const stub = env.GAUGE.getByName(s.objectName);
		expect((await stub.status()).inFlight).toBe(1);
		// Past half the admission window the release starts a renewal; the object is slow to answer it (300 ms,
		// longer than returnAfterMs), and no other request comes.
		await new Promise((resolve) => setTimeout(resolve, (s.blocks?.windowMs ?? 0) / 2 + 50));
		hooks.beforeCheckIn = async (msg) => {
			if (msg.want > 0) await new Promise((resolve) => setTimeout(resolve, 300));
		};
		await r.permit.release("delivered");
		while (pending.length > 0) await Promise.allSettled(pending.splice(0));
		// The idle isolate gave its block back: nothing parked until the lease's expiry.
		expect((await stub.status()).inFlight).toBe(0);
	});
});
