// `node dev/fetch-abort-hang.ts`: a minimal reproduction of the hang behind the faults e2e's stuck clients,
// with Node alone (no wrangler, no gate). Exits 1 while this Node's fetch still has the bug, 0 once fixed.
//
// Node 22's fetch is undici 6. When a fetch's signal aborts after the response body has fully arrived
// (undici's onComplete, which also unhooks the abort handler) but before the body stream is closed, the
// body is neither closed nor errored: `res.arrayBuffer()` stays pending forever (nodejs/undici#4089,
// nodejs/node#56917; undici 7, in Node 24, keeps the handler and rejects with AbortError). In the faults
// e2e, an `abort-at-origin` client aborts at 50 ms; when its 429 arrives at ~40-50 ms (more often after a
// reload, when refusals are slower) the abort can fall in that window, and without a deadline of its own
// the test waits for ever.
//
// Here the abort is placed in the window on purpose: a diagnostics-channel hook on undici's request
// completion aborts in a microtask, after onComplete and before the body's last read resolves.
import { subscribe } from "node:diagnostics_channel";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

const TRIALS = 20;
const WAIT_MS = 1_000;

// As the gate's 429 arrives under wrangler dev: headers first, then a small (here gzip) body.
const server = createServer((req, res) => {
	const gzip = req.url === "/gzip";
	res.writeHead(429, { "content-type": "text/plain", ...(gzip ? { "content-encoding": "gzip" } : {}) });
	res.flushHeaders();
	setTimeout(() => res.end(gzip ? gzipSync("Too many requests") : "Too many requests"), 20);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

let abortOnComplete: AbortController | undefined;
subscribe("undici:request:trailers", () => {
	const client = abortOnComplete;
	queueMicrotask(() => client?.abort());
});

async function trial(path: string): Promise<string> {
	const client = new AbortController();
	abortOnComplete = client;
	const res = await fetch(base + path, { signal: client.signal });
	const body = res.arrayBuffer().then(
		() => "resolved",
		(error: Error) => `rejected (${error.name})`,
	);
	return Promise.race([body, new Promise<string>((resolve) => setTimeout(() => resolve(`still pending after ${WAIT_MS} ms`), WAIT_MS))]);
}

let hung = 0;
for (const path of ["/gzip", "/plain"]) {
	const seen = new Map<string, number>();
	for (let i = 0; i < TRIALS; i++) {
		const outcome = await trial(path);
		seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
		if (outcome.startsWith("still pending")) hung++;
	}
	console.log(
		`Node ${process.version} (undici ${process.versions.undici}), ${path} body, abort after the body arrived:`,
		Object.fromEntries(seen),
	);
}
server.closeAllConnections();
server.close();
console.log(
	hung > 0 ? `${hung} body reads never settled: this Node's fetch has the bug` : "every body read settled: this Node's fetch is fixed",
);
process.exitCode = hung > 0 ? 1 : 0;
