// `npm start` applies a fixed wrangler.toml even when wrangler dev alone would not: a save after a TOML error, by
// rename (as vim, JetBrains' safe write and `sed -i` save). Measured without dev/config-watch.ts: the old config's
// 500 stayed until a restart (docs/troubleshooting.md, "The old config keeps answering after a fix").
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "pressure-gauge-start-reload-"));
const config = join(dir, "wrangler.toml");
/** The shipped bindings and migrations, with main pointing back at the project. */
const shipped = readFileSync(join(root, "wrangler.toml"), "utf8");
const main = /^main = "([^"]+)"$/m.exec(shipped)?.[1] ?? "src/gate/index.ts";
const head = (shipped.split("\n[vars]")[0] ?? "").replace(/^main = .*$/m, `main = ${JSON.stringify(join(root, main))}`);
const withLimit = (line: string) => `${head}\n[vars]\n[[vars.LIMITS.routes]]\nname = "request"\npath = "/request"\n${line}\n`;

let start: ChildProcess;
let gate: string;
let output = "";

/** Saves as an editor that writes a new file and renames it over the old one. */
function saveByRename(text: string): void {
	writeFileSync(`${config}.tmp`, text);
	renameSync(`${config}.tmp`, config);
}

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
	const { port } = server.address() as { port: number };
	await new Promise((done) => server.close(done));
	return port;
}

/** The status of GET /request?delay=0, or 0 while nothing answers (wrangler starting again). */
async function status(): Promise<number> {
	try {
		return (await fetch(`${gate}/request?delay=0`, { signal: AbortSignal.timeout(5_000) })).status;
	} catch {
		return 0;
	}
}

beforeAll(async () => {
	writeFileSync(config, withLimit("limit = 10"));
	const [port, originPort] = [await freePort(), await freePort()];
	gate = `http://127.0.0.1:${port}`;
	start = spawn(process.execPath, ["dev/start.ts", "-c", config], {
		cwd: root,
		env: {
			...process.env,
			PORT: String(port),
			DEMO_ORIGIN_PORT: String(originPort),
			PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}`,
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	start.stdout?.on("data", (chunk: Buffer) => {
		output += chunk.toString();
	});
	start.stderr?.on("data", (chunk: Buffer) => {
		output += chunk.toString();
	});
	// expect.poll belongs in tests: wait for wrangler dev to answer by hand.
	const deadline = Date.now() + 60_000;
	while ((await status()) !== 200) {
		if (Date.now() > deadline) throw new Error(`npm start did not answer 200 within 60 s:\n${output}`);
		await new Promise((done) => setTimeout(done, 500));
	}
});

afterAll(async () => {
	if (start && start.exitCode === null) {
		const exited = new Promise((done) => start.once("exit", done));
		start.kill("SIGTERM");
		await exited;
	}
	rmSync(dir, { recursive: true, force: true });
});

it("a fix saved by rename after a TOML error is applied, without restarting npm start", async () => {
	saveByRename(withLimit("limit = 0"));
	await expect.poll(status, { timeout: 30_000, interval: 500 }).toBe(500);
	saveByRename(withLimit("limit = = 10"));
	await expect.poll(() => output, { timeout: 10_000 }).toMatch(/npm start: .*wrangler\.toml:\d+:\d+: .*keeps its last config/);
	expect(await status()).toBe(500);
	saveByRename(withLimit("limit = 10"));
	await expect.poll(status, { timeout: 45_000, interval: 500 }).toBe(200);
});
