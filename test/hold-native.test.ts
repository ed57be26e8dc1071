// The native hold (src/hold/hold-native.ts): each ending releases once, with its reason, before the client sees
// the body; and which bodies it takes.
import { describe, expect, it } from "vitest";
import { READ_AHEAD_BYTES } from "../src/hold/hold.ts";
import { heldResponse, holdUntilRead } from "../src/hold/hold-native.ts";
import type { Releasable, ReleaseReason } from "../src/isolate/permit-types.ts";
import { expectInFlight, gate } from "./helpers/gate.ts";

/** A permit that records every release; only the first counts, as with the real ones. */
function recorder(): Releasable & { calls: ReleaseReason[] } {
	const calls: ReleaseReason[] = [];
	return {
		calls,
		get reason() {
			return calls[0] ?? null;
		},
		async release(reason) {
			calls.push(reason);
		},
	};
}

const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(120);
const within = <T>(p: Promise<T>): Promise<T> =>
	Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("not settled within 2 s")), 2_000))]);

/** An origin body under the test's control. */
function originBody() {
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	const body = new ReadableStream<Uint8Array>({
		start(c) {
			controller = c;
		},
	});
	return { body, controller };
}

describe("holdUntilRead: a small body of known length, read whole", () => {
	it("releases as delivered before the client gets the response", async () => {
		const permit = recorder();
		const res = await holdUntilRead(
			new Response(bytes(100), { headers: { "content-length": "100", "x-kept": "1" } }),
			permit,
			new AbortController().signal,
		);
		expect(permit.calls).toEqual(["delivered"]);
		expect(res.headers.get("x-kept")).toBe("1");
		expect((await res.arrayBuffer()).byteLength).toBe(100);
	});

	it("releases as origin-error when the body fails, and answers with a body that errors", async () => {
		const permit = recorder();
		const { body, controller } = originBody();
		controller.enqueue(bytes(10));
		controller.error(new Error("origin reset"));
		const res = await within(holdUntilRead(new Response(body), permit, new AbortController().signal));
		expect(permit.calls).toEqual(["origin-error"]);
		await expect(res.arrayBuffer()).rejects.toThrow();
	});
});

describe("heldResponse: which hold a body gets", () => {
	const cases: [string, HeadersInit, number, boolean][] = [
		["a small body of known length is read whole (released before the answer)", { "content-length": "100" }, 100, true],
		["a body of unknown length streams (released at its end)", {}, 100, false],
		[
			"a large body of known length streams (released at its end)",
			{ "content-length": String(READ_AHEAD_BYTES + 1) },
			READ_AHEAD_BYTES + 1,
			false,
		],
		["an encoded body streams (released at its end)", { "content-encoding": "gzip" }, 100, false],
	];
	it.each(cases)("%s", async (_name, headers, size, releasedBeforeAnswer) => {
		const permit = recorder();
		const waited: Promise<unknown>[] = [];
		const res = await heldResponse(new Response(bytes(size), { headers }), permit, new AbortController().signal, (p) => waited.push(p));
		expect(permit.calls.length).toBe(releasedBeforeAnswer ? 1 : 0);
		// Both ways end in waitUntil, so a client that leaves mid-body cannot cancel the release.
		expect(waited.length).toBe(1);
		expect((await res.arrayBuffer()).byteLength).toBe(size);
		await within(Promise.all(waited));
		// holdUntilDelivered may call release again after its first (a no-op on a real permit): the first counts.
		expect(permit.reason).toBe("delivered");
	});
});

describe("through the gate: an origin that sends Content-Length (dev/origin.ts /bytes)", () => {
	it("a small body: its permit is back before the answer, so back-to-back requests on limit 1 all pass", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 1 }] });
		for (let i = 0; i < 5; i++) {
			const res = await g.fetch("/bytes?size=1000");
			expect(res.status).toBe(200);
			await expectInFlight(g, "r", 0);
			expect((await res.arrayBuffer()).byteLength).toBe(1000);
		}
	});

	it("a body larger than the read-ahead streams, and its permit comes back once it is read", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 1 }] });
		const res = await g.fetch(`/bytes?size=${4 * READ_AHEAD_BYTES}`);
		expect(res.status).toBe(200);
		expect((await res.arrayBuffer()).byteLength).toBe(4 * READ_AHEAD_BYTES);
		await g.settle();
		await expectInFlight(g, "r", 0);
	});
});
