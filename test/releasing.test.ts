// An acquire carries the releases its isolate sent and has no answer to yet, so a client's next request never finds
// its own last permit still counted because the two calls crossed on the way to the object (issue 21's classes bench).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

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
