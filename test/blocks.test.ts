import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

/** The status, once the body has been read to the end (so the permit came back). */
async function statusAfterBody(res: Response): Promise<number> {
	await res.arrayBuffer();
	return res.status;
}

const COUNTED = ["acquire", "release", "renew", "cancel", "checkIn", "report"];

/** The real GAUGE namespace, counting the calls the Worker makes to its objects, by method. */
function countingGauge() {
	const calls = new Map<string, number>();
	const namespace = {
		getByName: (name: string, options?: DurableObjectNamespaceGetDurableObjectOptions) => {
			const stub = env.GAUGE.getByName(name, options);
			return new Proxy(stub, {
				get(target, method: string) {
					const value = Reflect.get(target, method);
					if (!COUNTED.includes(method) || typeof value !== "function") return value;
					return (...args: unknown[]) => {
						calls.set(method, (calls.get(method) ?? 0) + 1);
						return Reflect.apply(value, target, args);
					};
				},
			});
		},
	};
	return { namespace, calls };
}

const limits = (limit: number, extra: Record<string, unknown> = {}) => ({ routes: [{ name: "r", path: "/*", limit, ...extra }] });

describe("blocks through the gate (one isolate)", () => {
	it("admits from a block: the origin's peak stays within the limit, and the object counts every admission and release once", async () => {
		const counting = countingGauge();
		const g = gate(limits(40, { blocks: { max: 16, returnAfterMs: 50 } }), { GAUGE: counting.namespace });
		// Waves of 12 concurrent requests: the first, from a cold pool, mostly asks for single permits (k starts at 1,
		// then grows by the demand that found the pool dry).
		const statuses: number[] = [];
		for (let wave = 0; wave < 8; wave++) {
			const answers = await Promise.all(
				Array.from({ length: 12 }, (_, i) => g.fetch(`/request?delay=${20 + (i % 5) * 10}`, { signal: AbortSignal.timeout(20_000) })),
			);
			statuses.push(...(await Promise.all(answers.map(statusAfterBody))));
		}
		const admitted = statuses.filter((s) => s === 200).length;
		expect(admitted + statuses.filter((s) => s === 429).length).toBe(96);
		expect(admitted).toBeGreaterThan(0);
		await g.settle();
		const origin = await g.origin();
		expect(origin.peak).toBeLessThanOrEqual(40);
		expect(origin.total).toBe(admitted);
		const status = await g.status("r");
		// Every permit came back (the last request gave the block back), and each decision was counted once.
		expect(status.inFlight).toBe(0);
		expect(status.counters.admitted).toBe(admitted);
		expect(status.counters.released).toBe(admitted);
		expect(status.holds.count).toBe(admitted);
		// Admissions came from blocks: far fewer object calls than admissions, and no single acquire/release each.
		const objectCalls = (counting.calls.get("checkIn") ?? 0) + (counting.calls.get("acquire") ?? 0);
		expect(objectCalls).toBeLessThan(admitted / 3);
	});

	it("never admits above a small limit with blocks forced on, and counts refusals once (object + isolate reports)", async () => {
		const g = gate(limits(4, { blocks: { max: 4, returnAfterMs: 50 } }));
		const answers = await Promise.all(
			Array.from({ length: 20 }, () => g.fetch("/request?delay=100", { signal: AbortSignal.timeout(20_000) })),
		);
		const statuses = await Promise.all(answers.map(statusAfterBody));
		const admitted = statuses.filter((s) => s === 200).length;
		const refused = statuses.filter((s) => s === 429).length;
		expect(admitted + refused).toBe(20);
		await g.settle();
		expect((await g.origin()).peak).toBeLessThanOrEqual(4);
		const status = await g.status("r");
		expect(status.inFlight).toBe(0);
		expect(status.counters.admitted).toBe(admitted);
		expect(status.counters.refused + status.reported.localRefused).toBe(refused);
	});

	it('with blocks = "off" every admission is a single lease, as before', async () => {
		const g = gate(limits(40, { blocks: "off" }));
		const res = await g.fetch("/request?delay=0", { signal: AbortSignal.timeout(10_000) });
		expect(res.status).toBe(200);
		await res.arrayBuffer();
		await g.settle();
		const status = await g.status("r");
		expect(status.counters.admitted).toBe(1);
		expect(status.counters.released).toBe(1);
	});
});
