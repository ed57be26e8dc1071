// `npm start`: the seed's experiment out of the box. A demo origin that takes 2 s to answer "done"
// on 127.0.0.1:8788, and the gate under `wrangler dev` on :8787 in front of it (limit 10 on /request).
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { watchConfig } from "./config-watch.ts";
import { startOrigin } from "./origin.ts";

const ORIGIN_PORT = Number(process.env.DEMO_ORIGIN_PORT ?? 8788);
const GATE_PORT = Number(process.env.PORT ?? 8787);
const args = process.argv.slice(2);
const flag = args.findIndex((a) => a === "-c" || a === "--config");
const configPath = (flag >= 0 ? args[flag + 1] : undefined) ?? "wrangler.toml";

const origin = await startOrigin({ port: ORIGIN_PORT, delayMs: 2_000 });
console.log(`demo origin: ${origin.url} (answers "done" after 2 s, as the seed's handler)`);

/** True while wrangler dev is stopped to be started again: its exit then ends nothing. */
let restarting = false;
let wrangler = startWrangler();
console.log(`gate: http://localhost:${GATE_PORT}  (try: hey http://localhost:${GATE_PORT}/request)`);

function startWrangler(): ChildProcess {
	const child = spawn("wrangler", ["dev", "--port", String(GATE_PORT), "--ip", "127.0.0.1", "--var", `ORIGIN:${origin.url}`, ...args], {
		stdio: "inherit",
	});
	child.on("exit", async (code) => {
		if (restarting) return;
		watch.close();
		await origin.close();
		process.exit(code ?? 0);
	});
	return child;
}

// wrangler dev misses some saves of its config (dev/config-watch.ts says which): start it again for those.
const watch = watchConfig(configPath, async (why) => {
	if (restarting) return;
	console.log(`npm start: ${why}; restarting wrangler dev so that it reads it (docs/troubleshooting.md)`);
	restarting = true;
	const exited = new Promise((resolve) => wrangler.once("exit", resolve));
	wrangler.kill("SIGTERM");
	await exited;
	wrangler = startWrangler();
	restarting = false;
});

const stop = (signal: NodeJS.Signals): void => {
	wrangler.kill(signal);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
