// A client that goes away while its permits are being taken, through the runtime: its handler is cancelled,
// and nothing it was granted stays held.
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keyObjectName } from "../../src/core/partition.ts";
import { eventually } from "../helpers/gate.ts";

/** The main Worker through the runtime, as a client reaches it: a client that aborts gets its handler cancelled. */
const worker = exports.default as unknown as { fetch(request: Request): Promise<Response> };

describe("a client that disconnects mid-acquire (issue 14, item 9)", () => {
	// vitest.config.ts gives the main Worker of this project a route "cancel" (limit 5, perKey 1 by x-key) for this test.
	it("gives back a permit already granted when the runtime cancels the handler mid-acquire", async () => {
		const route = env.GAUGE.getByName("route:cancel");
		const key = env.GAUGE.getByName(await keyObjectName("cancel", "k1"));
		// The route's object is busy: the request's route acquire is in flight when the client goes away.
		const busy = runInDurableObject(route, async (_instance, state) => {
			await state.blockConcurrencyWhile(() => new Promise((resolve) => setTimeout(resolve, 300)));
		});
		await new Promise((resolve) => setTimeout(resolve, 20));
		const client = new AbortController();
		const res = worker.fetch(new Request("http://gate.test/cancel/x?delay=0", { signal: client.signal, headers: { "x-key": "k1" } }));
		setTimeout(() => client.abort(), 50);
		await res.then(
			(r) => r.body?.cancel(),
			() => undefined,
		);
		await busy;
		// The key's permit was granted before the client left; its lease must not be left to expire.
		await eventually(async () => expect((await key.status()).inFlight).toBe(0), 3_000);
		expect((await key.status()).counters.reaped).toBe(0);
		expect((await route.status()).inFlight).toBe(0);
	});
});
