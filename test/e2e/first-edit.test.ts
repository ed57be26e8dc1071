// A newcomer's first edit: paste the README's example config into wrangler.toml and create .dev.vars as the
// README says. `npm run check`'s steps must stay green: the types describe the runtime, never the values of
// [vars] or local secrets, so editing a limit never asks for `wrangler types` again.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "pressure-gauge-first-edit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ```toml block under the README's "### Example" heading. */
function readmeExample(): string {
	const readme = readFileSync(join(root, "README.md"), "utf8");
	const match = /### Example\s+```toml\n([\s\S]*?)```/.exec(readme);
	if (!match?.[1]) throw new Error('README.md has no ```toml block under "### Example"');
	return match[1];
}

/** Runs a project tool as `npm run check` does, failing with its output (not a bare exit code). */
function run(args: string[]): string {
	try {
		return execFileSync(process.execPath, args, { cwd: root, encoding: "utf8", stdio: "pipe", timeout: 60_000 });
	} catch (error) {
		const e = error as { stdout?: string; stderr?: string; message: string };
		throw new Error(`${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? e.message}`);
	}
}

it("the README's example config pasted into wrangler.toml, plus .dev.vars, passes every step of npm run check", () => {
	const shipped = readFileSync(join(root, "wrangler.toml"), "utf8");
	const head = shipped.slice(0, shipped.indexOf("\n[vars]"));
	expect(head).toContain("[[migrations]]");
	const config = join(dir, "wrangler.toml");
	writeFileSync(config, `${head.replace(/^main = .*$/m, `main = ${JSON.stringify(join(root, "src/gate/index.ts"))}`)}\n${readmeExample()}`);
	copyFileSync(join(root, ".dev.vars.example"), join(dir, ".dev.vars"));

	const wrangler = join(root, "node_modules/wrangler/bin/wrangler.js");
	expect(run(["dev/check-config.ts", config])).toContain("config valid");
	expect(run([wrangler, "types", "--include-env=false", "--check", "-c", config])).toContain("up to date");
	expect(run([wrangler, "deploy", "--dry-run", "--outdir", join(dir, "dist"), "-c", config])).toMatch(/Total Upload/);
});
