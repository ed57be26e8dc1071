// a held WebSocket whose client drops (1006 / error) is not a cut HTTP exchange: the gate closes the
// origin's socket itself at once, as it does for a client's clean close, so its permit should come back at once,
// not after the route's cutRelease grace (5 s by default; the same for a socket that lived an hour).

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { holdUntilClosed } from "../src/hold/websocket.ts";
import { acquirePermit, PermitGroup } from "../src/isolate/permit.ts";
import type { GaugeSpec } from "../src/isolate/permit-types.ts";
import { gaugeNamespace } from "../src/isolate/stub.ts";

class FakeSocket extends EventTarget {
	binaryType = "blob";
	closedWith: [number | undefined, string | undefined] | null = null;
	accept(): void {}
	send(): void {}
	close(code?: number, reason?: string): void {
		this.closedWith = [code, reason];
	}
}

function closeEvent(code: number): Event {
	return Object.assign(new Event("close"), { code, reason: "", wasClean: false });
}

afterEach(() => vi.unstubAllGlobals());

describe("a held WebSocket whose client drops", () => {
	it("gives its permit back at once (no cutRelease grace): the gate closed the origin's socket itself", async () => {
		const objectName = `route:ws-cut-${crypto.randomUUID()}`;
		const spec: GaugeSpec = {
			objectName,
			policy: "ws",
			quota: 1,
			limit: 1,
			maxHoldMs: 60_000,
			queue: null,
			dryRun: false,
			cutGraceMs: 5_000,
		};
		const pending: Promise<unknown>[] = [];
		const result = await acquirePermit(gaugeNamespace(env.GAUGE), spec, (p) => pending.push(p), new AbortController().signal);
		if (result.kind !== "granted") throw new Error(`not granted: ${result.kind}`);
		const permits = new PermitGroup();
		permits.add(result.permit);

		const edge = new FakeSocket();
		const origin = new FakeSocket();
		const Real = WebSocketPair;
		vi.stubGlobal("WebSocketPair", function FakePair() {
			return { 0: new Real()[0], 1: edge };
		});
		const upgraded = { webSocket: origin, headers: new Headers() } as unknown as Response;
		holdUntilClosed(upgraded, permits, spec.maxHoldMs);

		edge.dispatchEvent(closeEvent(1006)); // the client's TCP connection is gone, no close frame
		await Promise.all(pending);
		expect(origin.closedWith?.[0]).toBe(1001); // the origin is told at once
		expect(permits.reason).toBe("client-dropped");
		// Not kept for the 5 s cutRelease grace (it was, as "client-disconnected", before the fix).
		expect((await env.GAUGE.getByName(objectName).status()).inFlight).toBe(0);
	});
});
