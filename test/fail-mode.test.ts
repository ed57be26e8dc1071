import { describe, expect, it } from "vitest";
import { isolateCounters } from "../src/isolate/isolate-counters.ts";
import { gate } from "./helpers/gate.ts";

/** A GAUGE binding whose object cannot answer, recording the best-effort releases sent to it. */
function brokenGauge(error: Error) {
	const releases: string[] = [];
	const stub = {
		acquire: async () => {
			throw error;
		},
		release: async (leaseId: string) => {
			releases.push(leaseId);
			return false;
		},
	};
	return { namespace: { getByName: () => stub }, releases };
}

const limits = (failMode?: string) => ({ routes: [{ name: "r", path: "/*", limit: 1, ...(failMode ? { failMode } : {}) }] });

describe("when the Durable Object cannot answer", () => {
	it("fails closed by default: 503 with Retry-After, origin untouched, a best-effort release of the lease id", async () => {
		const broken = brokenGauge(new Error("Network connection lost."));
		const g = gate(limits(), { GAUGE: broken.namespace });
		const res = await g.fetch("/request?delay=0");
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBe("1");
		await g.settle();
		expect((await g.origin()).total).toBe(0);
		expect(broken.releases).toHaveLength(1);
		expect(broken.releases[0]).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("fails open when the route says so: the request is proxied", async () => {
		const broken = brokenGauge(new Error("Network connection lost."));
		const g = gate(limits("open"), { GAUGE: broken.namespace });
		const res = await g.fetch("/request?delay=0");
		expect(res.status).toBe(200);
		expect(await res.text()).toBe("done");
		expect((await g.origin()).total).toBe(1);
		const [route] = g.routeNames();
		expect(isolateCounters(route ?? "")).toEqual({ gaugeErrors: 1, failOpen: 1, localRefusals: 0, keyRefusals: 0 });
	});

	it("never retries an overloaded object, not even with a release", async () => {
		const overloaded = Object.assign(new Error("Durable Object is overloaded"), { overloaded: true });
		const broken = brokenGauge(overloaded);
		const g = gate(limits(), { GAUGE: broken.namespace });
		expect((await g.fetch("/request")).status).toBe(503);
		await g.settle();
		expect(broken.releases).toEqual([]);
	});
});
