// `npm start`: the seed's experiment out of the box. A demo origin that takes 2 s to answer "done"
// on 127.0.0.1:8788, and the gate under `wrangler dev` on :8787 in front of it (limit 10 on /request).
import { spawn } from "node:child_process";
import { startOrigin } from "./origin.ts";

const ORIGIN_PORT = Number(process.env.DEMO_ORIGIN_PORT ?? 8788);
const GATE_PORT = Number(process.env.PORT ?? 8787);

const origin = await startOrigin({ port: ORIGIN_PORT, delayMs: 2_000 });
console.log(`demo origin: ${origin.url} (answers "done" after 2 s, as the seed's handler)`);

const wrangler = spawn(
	"wrangler",
	["dev", "--port", String(GATE_PORT), "--ip", "127.0.0.1", "--var", `ORIGIN:${origin.url}`, ...process.argv.slice(2)],
	{ stdio: "inherit" },
);
console.log(`gate: http://localhost:${GATE_PORT}  (try: hey http://localhost:${GATE_PORT}/request)`);

const stop = (signal: NodeJS.Signals): void => {
	wrangler.kill(signal);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
wrangler.on("exit", async (code) => {
	await origin.close();
	process.exit(code ?? 0);
});
