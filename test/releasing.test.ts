// An acquire carries the releases its isolate sent and has no answer to yet, so a client's next request never finds
// its own last permit still counted because the two calls crossed on the way to the object (issue 21's classes bench).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AdaptiveSettings } from "../src/adaptive/settings.ts";
import type { GaugeRpc } from "../src/gauge-rpc.ts";
import { acquirePermit } from "../src/isolate/permit.ts";
import type { GaugeSpec, Renewable } from "../src/isolate/permit-types.ts";
import type { AcquireRequest } from "../src/protocol.ts";

const HOLD = 60_000;

describe("releases carried by the next acquire", () => {
	it("Should release the leases an acquire names before deciding it, and count each release once", async () => {
		const stub = env.GAUGE.getByName(`releasing-${crypto.randomUUID()}`);
		expect(await stub.acquire({ leaseId: "a", limit: 1, maxHoldMs: HOLD })).toMatchObject({ ok: true });
		expect(await stub.acquire({ leaseId: "b", limit: 1, maxHoldMs: HOLD })).toMatchObject({ ok: false, reason: "full" });
		// The isolate released "a" and its release call is still on the way: the next acquire says so.
		expect(await stub.acquire({ leaseId: "c", limit: 1, maxHoldMs: HOLD, releasing: ["a"] })).toMatchObject({ ok: true, inFlight: 1 });
		// The release call lands late: "a" is gone already, nothing is given back twice.
		expect(await stub.release("a", HOLD)).toBe(false);
		const status = await stub.status();
		expect(status.counters).toMatchObject({ admitted: 2, released: 1, refused: 1 });
		expect(status.inFlight).toBe(1);
		// A released id can never be taken again: an acquire naming it as released cannot revive it either.
		expect(await stub.acquire({ leaseId: "a", limit: 1, maxHoldMs: HOLD })).toMatchObject({ ok: false, reason: "released" });
	});
});

describe("the isolate's side: which releases ride on the next acquire", () => {
	/** A namespace whose object grants every acquire, records what each carried, and never answers a release. */
	function fakeNamespace() {
		const carried: (readonly string[] | undefined)[] = [];
		const stub = {
			acquire: async (req: AcquireRequest) => {
				carried.push(req.releasing);
				return { ok: true, leaseId: req.leaseId, expiresAt: Date.now() + HOLD, inFlight: 1, limit: 10, quota: 10 };
			},
			release: () => new Promise<boolean>(() => undefined),
		};
		const ns = { getByName: () => stub } as unknown as DurableObjectNamespace<GaugeRpc>;
		return { ns, carried };
	}
	const spec = (extra: Partial<GaugeSpec> = {}): GaugeSpec => ({
		objectName: `route:releasing-${crypto.randomUUID()}`,
		policy: "r",
		quota: 10,
		limit: 10,
		maxHoldMs: HOLD,
		queue: null,
		dryRun: false,
		cutGraceMs: 5_000,
		...extra,
	});
	const waitUntil = () => undefined;
	const live = new AbortController().signal;

	async function take(ns: DurableObjectNamespace<GaugeRpc>, s: GaugeSpec): Promise<Renewable> {
		const result = await acquirePermit(ns, s, waitUntil, live);
		if (result.kind !== "granted") throw new Error(`expected a grant, got ${result.kind}`);
		return result.permit;
	}

	it("Should carry a plain release on the next acquire to the same object, once, and not to another object", async () => {
		const { ns, carried } = fakeNamespace();
		const s = spec();
		const first = await take(ns, s);
		void first.release("delivered");
		await take(ns, spec());
		await take(ns, s);
		await take(ns, s);
		expect(carried).toEqual([undefined, undefined, [(first as unknown as { leaseId: string }).leaseId], undefined]);
	});

	it("Should not carry a release under a cutRelease grace, nor an adaptive route's (its release carries a sample)", async () => {
		const { ns, carried } = fakeNamespace();
		const s = spec();
		void (await take(ns, s)).release("client-cancelled");
		await take(ns, s);
		const adaptive = spec({ adaptive: { min: 1, max: 10, initial: 5 } as unknown as AdaptiveSettings });
		void (await take(ns, adaptive)).release("delivered");
		await take(ns, adaptive);
		expect(carried).toEqual([undefined, undefined, undefined, undefined]);
	});
});
