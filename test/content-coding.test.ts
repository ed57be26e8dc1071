// A content coding reaches the client only if it asked for it. workerd's fetch() decodes gzip and br bodies and
// encodes a returned Response by its Content-Encoding header, so forwarding the header as is compressed answers
// for clients that asked for none (curl, under `npm run dev`, got a brotli 508 relayed from the gate's own loop).
import { describe, expect, it } from "vitest";
import { acceptsCoding } from "../src/proxy/content-coding.ts";
import { gate } from "./helpers/gate.ts";

describe("the origin's content coding, as the client asked", () => {
	it("is dropped for a client that sent no Accept-Encoding: the body arrives plain", async () => {
		const g = gate({ routes: [] });
		const res = await g.fetch("/gzip");
		expect(res.headers.get("content-encoding")).toBeNull();
		expect(await res.text()).toBe("done, gzip-encoded by the origin");
	});

	it("is kept for a client that accepts it", async () => {
		const g = gate({ routes: [] });
		const res = await g.fetch("/gzip", { headers: { "accept-encoding": "br, gzip" } });
		expect(res.headers.get("content-encoding")).toBe("gzip");
		await res.arrayBuffer();
	});
});

describe("acceptsCoding (RFC 9110 §12.5.3, but no header means none)", () => {
	it.each([
		[null, "gzip", false],
		["", "gzip", false],
		["gzip", "gzip", true],
		["GZIP;q=0.5, br", "gzip", true],
		["gzip;q=0", "gzip", false],
		["identity", "br", false],
		["*", "br", true],
		["*, br;q=0", "br", false],
	])("%j accepts %s: %s", (header, coding, expected) => {
		expect(acceptsCoding(header, coding)).toBe(expected);
	});
});
