import { describe, expect, it } from "vitest";
import { upstreamUrl } from "../src/gate/forward.ts";
import { gate } from "./helpers/gate.ts";

interface Echo {
	method: string;
	url: string;
	headers: Record<string, string>;
	body: string;
}

const g = gate({ routes: [{ name: "r", path: "/*", limit: 50 }] });
const echo = async (path: string, init?: RequestInit): Promise<Echo> => (await g.fetch(path, init)).json();

describe("forwarding to the origin", () => {
	it("forwards method, path, query and body", async () => {
		const seen = await echo("/echo?a=1&b=two", { method: "POST", body: "payload" });
		expect(seen).toMatchObject({ method: "POST", url: "/echo?a=1&b=two", body: "payload" });
	});

	it("drops hop-by-hop headers, including those Connection names, and keeps end-to-end ones", async () => {
		const seen = await echo("/echo", {
			headers: { connection: "x-hop", "x-hop": "1", "keep-alive": "timeout=5", "x-end": "kept", "proxy-authorization": "secret" },
		});
		expect(seen.headers["x-end"]).toBe("kept");
		for (const h of ["x-hop", "keep-alive", "proxy-authorization"]) expect(seen.headers).not.toHaveProperty(h);
	});

	it("adds Via and X-Forwarded-Host/Proto, and sends Host for the origin", async () => {
		const seen = await echo("/echo");
		expect(seen.headers.via).toBe("1.1 pressure-gauge");
		expect(seen.headers["x-forwarded-host"]).toBe("gate.test");
		expect(seen.headers["x-forwarded-proto"]).toBe("http");
		expect(seen.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
	});

	it("refuses a request that already passed this gate (a loop) with 508", async () => {
		const own = gate({ routes: [{ name: "r", path: "/*", limit: 50 }] });
		const res = await own.fetch("/echo", { headers: { via: "1.1 cdn, 1.1 pressure-gauge" } });
		expect(res.status).toBe(508);
		expect((await own.origin()).total).toBe(0);
		expect((await own.fetch("/echo", { headers: { via: "1.1 pressure-gauge-other" } })).status).toBe(200);
	});

	it("does not follow redirects: the client sees them", async () => {
		const res = await g.fetch("/status/302");
		expect(res.status).toBe(302);
	});
});

describe("upstreamUrl", () => {
	const origin = new URL("https://origin.example.com");

	it("keeps the origin's host whatever the path looks like", () => {
		expect(upstreamUrl("https://gate.test//evil.example/x?y=1", origin, "//evil.example/x").href).toBe(
			"https://origin.example.com//evil.example/x?y=1",
		);
		expect(upstreamUrl("https://gate.test/%2F%2Fevil.example", origin, "//evil.example").host).toBe("origin.example.com");
	});

	it("forwards to the request's own URL when no ORIGIN is set (zone routes)", () => {
		expect(upstreamUrl("https://api.example.com/v1/items?x=1", null, "/v1/items").href).toBe("https://api.example.com/v1/items?x=1");
	});
});
