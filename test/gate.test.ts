import { describe, expect, it } from "vitest";
import { eventually, expectInFlight, gate } from "./helpers/gate.ts";

const limits = (limit: number, extra: Record<string, unknown> = {}) => ({
	routes: [{ name: "r", path: "/*", limit, ...extra }],
});
/** Cut exchanges give their permits back at once (the default keeps them a grace period: test/cut-release.test.ts). */
const IMMEDIATE = { cutRelease: "immediate" };

describe("the gate: admit, refuse, release", () => {
	it("refuses with 429 and the seed's body when no permit is free, without touching the origin", async () => {
		const g = gate(limits(2));
		const held = [await g.fetch("/stream?chunks=10&interval=50"), await g.fetch("/stream?chunks=10&interval=50")];
		const refused = await g.fetch("/request");
		expect(refused.status).toBe(429);
		expect(await refused.text()).toBe("Too many requests");
		expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		expect((await g.origin()).total).toBe(2);
		await Promise.all(held.map((r) => r.arrayBuffer()));
		await expectInFlight(g, "r", 0);
	});

	it("holds the permit until the body is completely delivered, not when the headers arrive", async () => {
		const g = gate(limits(1));
		const res = await g.fetch("/stream?chunks=10&interval=50");
		expect(res.status).toBe(200);
		await expectInFlight(g, "r", 1);
		expect((await g.fetch("/request")).status).toBe(429);
		expect((await res.arrayBuffer()).byteLength).toBe(10 * 16);
		// Released before the stream closed: the very next request finds the permit free.
		await expectInFlight(g, "r", 0);
		const next = await g.fetch("/request?delay=0");
		expect(next.status).toBe(200);
		expect(await next.text()).toBe("done");
	});

	it("releases when the client cancels the body", async () => {
		const g = gate(limits(1, IMMEDIATE));
		const res = await g.fetch("/stream?chunks=50&interval=20");
		const reader = res.body!.getReader();
		await reader.read();
		await reader.cancel("client went away");
		await g.settle();
		await expectInFlight(g, "r", 0);
		await eventually(async () => expect((await g.origin()).inFlight).toBe(0));
	});

	it("releases when the client disconnects while the origin is working (request.signal)", async () => {
		const g = gate(limits(1, IMMEDIATE));
		const client = new AbortController();
		const pending = g.fetch("/hang", { signal: client.signal });
		await eventually(async () => expect((await g.origin()).inFlight).toBe(1));
		client.abort();
		await pending.then(
			(r) => r.body?.cancel(),
			() => undefined,
		);
		await g.settle();
		await expectInFlight(g, "r", 0);
	});

	it("answers 502 and releases when the origin drops the connection", async () => {
		const g = gate(limits(1));
		const res = await g.fetch("/reset");
		expect(res.status).toBe(502);
		await res.arrayBuffer();
		await g.settle();
		await expectInFlight(g, "r", 0);
	});

	it("answers 504 and releases when the origin hangs past originTimeoutMs", async () => {
		const g = gate(limits(1, { originTimeoutMs: 150, ...IMMEDIATE }));
		const res = await g.fetch("/hang");
		expect(res.status).toBe(504);
		await g.settle();
		await expectInFlight(g, "r", 0);
		await eventually(async () => expect((await g.origin()).inFlight).toBe(0));
	});

	it("cuts a body still streaming at the deadline with an error (never a clean truncated end) and releases", async () => {
		const g = gate(limits(1, { originTimeoutMs: 200, ...IMMEDIATE }));
		const res = await g.fetch("/stream?chunks=100&interval=20");
		expect(res.status).toBe(200);
		await expect(res.arrayBuffer()).rejects.toThrow();
		await g.settle();
		await expectInFlight(g, "r", 0);
	});

	it.each([
		["HEAD", "/request?delay=0", 200],
		["GET", "/status/204", 204],
		["GET", "/status/304", 304],
	])("releases at once for a %s %s answered without a body", async (method, path, status) => {
		const g = gate(limits(1));
		const res = await g.fetch(path, { method });
		expect(res.status).toBe(status);
		expect(res.body).toBeNull();
		await expectInFlight(g, "r", 0);
	});

	it("passes origin error statuses through and releases after their bodies", async () => {
		const g = gate(limits(1));
		const res = await g.fetch("/status/503");
		expect(res.status).toBe(503);
		await res.arrayBuffer();
		await expectInFlight(g, "r", 0);
	});

	it("leaves requests that match no route ungated when the default is unlimited", async () => {
		const g = gate({ routes: [{ name: "r", path: "/limited", limit: 1 }] });
		const held = await g.fetch("/limited?delay=0");
		const results = await Promise.all(Array.from({ length: 5 }, () => g.fetch("/free?delay=0")));
		expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
		await held.arrayBuffer();
		await Promise.all(results.map((r) => r.arrayBuffer()));
	});

	it("refuses everything with 500 while the config is invalid, and never reaches the origin", async () => {
		const g = gate({ routes: [{ name: "r", path: "/*", limit: 0 }] });
		const res = await g.fetch("/request");
		expect(res.status).toBe(500);
		expect(await res.text()).toContain("invalid configuration");
		expect((await g.origin()).total).toBe(0);
	});
});

describe("the gate under concurrency", () => {
	it("admits exactly the limit from a burst and every permit comes back", async () => {
		const g = gate(limits(5));
		const results = await Promise.all(Array.from({ length: 40 }, () => g.fetch("/request?delay=150")));
		const statuses = results.map((r) => r.status);
		expect(statuses.filter((s) => s === 200)).toHaveLength(5);
		expect(statuses.filter((s) => s === 429)).toHaveLength(35);
		await Promise.all(results.map((r) => r.arrayBuffer()));
		const origin = await g.origin();
		expect(origin.peak).toBe(5);
		expect(origin.total).toBe(5);
		await expectInFlight(g, "r", 0);
	});
});
