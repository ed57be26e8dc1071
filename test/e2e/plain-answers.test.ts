// The gate's own answers reach a client that asked for no encoding as plain text, under the local runtime too.
// With ORIGIN unset under `wrangler dev`, the gate forwards to itself and answers the loop 508; miniflare's entry
// worker rewrites every request's Accept-Encoding to "br, gzip" (as Cloudflare's edge does) and compressed the inner
// 508, which the outer gate relayed with its Content-Encoding: curl (no Accept-Encoding) got brotli bytes.
import { get } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LocalGate } from "../../dev/gate.ts";
import { startGate } from "../../dev/gate.ts";

let gate: LocalGate;

beforeAll(async () => {
	gate = await startGate({ limits: { routes: [{ name: "r", path: "/r/*", limit: 2 }] } });
});

afterAll(async () => {
	await gate?.close();
});

/** A GET as curl sends it: no Accept-Encoding (Node's fetch would add one and decode for us). */
function plainGet(url: string): Promise<{ status: number; encoding: string | undefined; body: string }> {
	return new Promise((resolve, reject) => {
		get(url, (res) => {
			const chunks: Buffer[] = [];
			res.on("data", (chunk: Buffer) => chunks.push(chunk));
			res.on("end", () =>
				resolve({ status: res.statusCode ?? 0, encoding: res.headers["content-encoding"], body: Buffer.concat(chunks).toString("utf8") }),
			);
			res.on("error", reject);
		}).on("error", reject);
	});
}

it("with no ORIGIN, the loop's 508 reaches a client that asked for no encoding as plain text", async () => {
	for (const path of ["/r/x", "/elsewhere"]) {
		const res = await plainGet(`${gate.url}${path}`);
		expect(res.status).toBe(508);
		expect(res.encoding ?? "identity").toBe("identity");
		expect(res.body).toContain("Loop detected");
	}
});
