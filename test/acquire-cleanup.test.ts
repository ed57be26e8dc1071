// A client that goes away while its permits are being taken: nothing it was granted stays held.
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

describe("a client that disconnects while its permits are being taken (issue 14, item 9; see also test/runtime/)", () => {
	it("a queued acquire for a client already gone never waits", async () => {
		const g = gate({ routes: [{ name: "q", path: "/*", limit: 1, queue: { size: 5, maxWaitMs: 2_000 } }] });
		const holder = await g.fetch("/stream?chunks=40&interval=25");
		const gone = await g.fetch("/request?delay=0", { signal: AbortSignal.abort() }).then(
			(r) => r.status,
			() => "aborted",
		);
		expect(gone).not.toBe(200);
		const status = await g.status("q");
		expect(status.counters.queued).toBe(0);
		expect(status.queued).toBe(0);
		await holder.arrayBuffer();
		await g.settle();
		expect((await g.status("q")).inFlight).toBe(0);
	});
});
