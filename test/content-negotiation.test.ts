// Every answer the gate makes itself (not only its 429) follows one content negotiation: plain text by
// default, RFC 9457 problem+json when the client's Accept asks for JSON.
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

const JSON_ACCEPT = { accept: "application/json" };

async function expectProblem(res: Response, status: number, title: string): Promise<void> {
	expect(res.status).toBe(status);
	expect(res.headers.get("content-type")).toBe("application/problem+json");
	expect(await res.json()).toMatchObject({ type: "about:blank", status, title });
}

describe("the gate's own answers honour Accept", () => {
	// cutRelease "immediate": the 504's permit comes back at the cut, so the last test can check every one.
	const g = gate({ routes: [{ name: "n", path: "/*", limit: 5, originTimeoutMs: 300, maxHoldMs: 1_300, cutRelease: "immediate" }] });

	it("502 when the origin drops the connection", async () => {
		await expectProblem(await g.fetch("/reset", { headers: JSON_ACCEPT }), 502, "Bad gateway");
		const plain = await g.fetch("/reset");
		expect(plain.status).toBe(502);
		expect(await plain.text()).toBe("Bad gateway");
	});

	it("504 when the origin misses originTimeoutMs", async () => {
		await expectProblem(await g.fetch("/hang", { headers: JSON_ACCEPT }), 504, "Gateway timeout");
	});

	it("508 for a request that already passed this gate", async () => {
		const res = await g.fetch("/echo", { headers: { ...JSON_ACCEPT, via: "1.1 pressure-gauge" } });
		await expectProblem(res, 508, "Loop detected: the request already passed through pressure-gauge; set ORIGIN");
	});

	it("500 while the config is invalid", async () => {
		const bad = gate({ routes: [{ name: "n", path: "/*", limit: 0 }] });
		const res = await bad.fetch("/echo", { headers: JSON_ACCEPT });
		await expectProblem(res, 500, "pressure-gauge: invalid configuration; see the Worker's logs or run `npm run check`");
		expect((await bad.origin()).total).toBe(0);
	});

	it("gives every permit back after those answers", async () => {
		await g.settle();
		expect((await g.status("n")).inFlight).toBe(0);
	});
});
