import { it } from "vitest";
import { unstable_startWorker } from "wrangler";
import { startOrigin } from "../../dev/origin.ts";

it("debug", async () => {
	const origin = await startOrigin();
	const worker = await unstable_startWorker({
		config: "wrangler.toml",
		bindings: {
			LIMITS: { type: "json", value: { routes: [{ name: "f", path: "/*", limit: 8, originTimeoutMs: 1000, maxHoldMs: 2000 }] } },
			ORIGIN: { type: "plain_text", value: origin.url },
		},
		dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false, logLevel: "none", persist: "/tmp/pg-persist" },
	} as never);
	await worker.ready;
	const url = (await worker.url).origin;
	console.log("url", url);
	for (const path of ["/reset", "/work?delay=0", "/status/204"]) {
		const res = await fetch(`${url}${path}`);
		console.log(path, res.status, await res.text());
	}
	const t = Date.now();
	const r = await fetch(`${url}/hang`);
	console.log("hang", r.status, Date.now() - t, "origin", origin.stats());
	await new Promise((r) => setTimeout(r, 200));
	console.log("after hang origin", origin.stats());
	origin.reset();
	await Promise.all(
		Array.from({ length: 40 }, async () => {
			for (let i = 0; i < 10; i++) {
				const client = new AbortController();
				setTimeout(() => client.abort(), 50);
				try {
					const r = await fetch(`${url}/work?delay=300`, { signal: client.signal });
					await r.arrayBuffer();
				} catch {}
			}
		}),
	);
	await new Promise((r) => setTimeout(r, 400));
	console.log("abort-at-origin only:", origin.stats());
	const ok = await fetch(`${url}/work?delay=0`);
	console.log("after aborts", ok.status);
	await worker.dispose();
	await origin.close();
}, 120000);
