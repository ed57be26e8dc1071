// `npm run check`'s config step as an operator meets it: `node dev/check-config.ts <file>` on a wrangler.toml
// with the mistakes a newcomer makes. Each must fail with lines that say what and where, never pass silently.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "pressure-gauge-check-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shipped wrangler.toml up to [vars]: the bindings and migrations, as an operator's file has them. */
const head = readFileSync(join(root, "wrangler.toml"), "utf8").split("\n[vars]")[0] ?? "";

let files = 0;

/** Runs the config check on a wrangler.toml of `head` + `body`, as `npm run check` runs it. */
function check(body: string): { status: number | null; stdout: string; stderr: string; file: string } {
	const file = join(dir, `wrangler-${++files}.toml`);
	writeFileSync(file, `${head}\n${body}`);
	const run = spawnSync(process.execPath, ["dev/check-config.ts", file], { cwd: root, encoding: "utf8", timeout: 60_000 });
	// wrangler's own yellow warnings are not the check's words: keep only the check's lines.
	const stderr = run.stderr
		.split("\n")
		.filter((line) => line.startsWith(file) || line.startsWith("  - "))
		.join("\n");
	return { status: run.status, stdout: run.stdout, stderr, file };
}

/** Line number (1-based) of the first line of the file that contains `text`. */
function lineOf(file: string, text: string): number {
	return (
		readFileSync(file, "utf8")
			.split("\n")
			.findIndex((line) => line.includes(text)) + 1
	);
}

it("fails on a route table outside [vars] ([[LIMITS.routes]]), naming where it is and where it belongs", () => {
	const run = check(
		[
			"[vars]",
			'ORIGIN = "https://origin.example.com"',
			"",
			"[[LIMITS.routes]]",
			'name = "reports"',
			'path = "/reports/*"',
			"limit = 4",
		].join("\n"),
	);
	expect(run.status).toBe(1);
	expect(run.stdout).not.toContain("config valid");
	const line = lineOf(run.file, "[[LIMITS.routes]]");
	expect(run.stderr).toContain(`${run.file}:${line}: LIMITS is outside [vars]`);
	expect(run.stderr).toContain("[[vars.LIMITS.routes]]");
});

it("fails on gate vars set in an environment outside its vars, and on a near miss of a gate var in [vars]", () => {
	const run = check(
		[
			"[env.staging]",
			'name = "pressure-gauge-staging"',
			'ORIGIN = "https://origin.example.com"',
			"[env.staging.LIMITS.default]",
			"limit = 5",
			"",
			"[vars]",
			"LIMIT = { default = { limit = 5 } }",
		].join("\n"),
	);
	expect(run.status).toBe(1);
	expect(run.stderr).toMatch(/env\.staging\.ORIGIN is outside \[env\.staging\.vars\]/);
	expect(run.stderr).toMatch(/vars\.LIMIT is not a var the gate reads: did you mean LIMITS\?/);
	expect(run.stderr).toMatch(/env\.staging\.LIMITS is outside \[env\.staging\.vars\]/);
});

it("answers a TOML syntax error with one line, file:line:column: what the parser expected, and exit 1", () => {
	const run = check(["[vars]", "[[vars.LIMITS.routes]]", 'name = "request"', 'path = "/request"', "limit = = 4"].join("\n"));
	expect(run.status).toBe(1);
	const line = lineOf(run.file, "limit = = 4");
	const all = spawnSync(process.execPath, ["dev/check-config.ts", run.file], { cwd: root, encoding: "utf8" });
	const lines = all.stderr.trim().split("\n");
	expect(lines).toHaveLength(1);
	expect(lines[0]).toMatch(new RegExp(`^${run.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${line}:9: `));
	expect(all.stderr).not.toMatch(/ParseError|at .*\.js/);
});

it("reports every problem of a route at once, naming the route, with a suggestion for a misspelt setting", () => {
	const run = check(
		[
			"[vars]",
			"[[vars.LIMITS.routes]]",
			'name = "request"',
			'path = "/request"',
			"limit = 10",
			"",
			"[[vars.LIMITS.routes]]",
			'name = "reports"',
			'path = "/reports/*"',
			"limt = 4",
			"originTimeoutMs = 10000",
			"maxHoldMs = 10500",
		].join("\n"),
	);
	expect(run.status).toBe(1);
	expect(run.stderr).toContain('LIMITS.routes[1] ("reports").limt: unknown setting, did you mean "limit"?');
	expect(run.stderr).toContain('LIMITS.routes[1] ("reports").limit: got nothing, expected an integer >= 1');
	expect(run.stderr).toContain('LIMITS.routes[1] ("reports").maxHoldMs: got 10500, expected at least originTimeoutMs + 1000 = 11000');
	expect(run.stderr).toContain("3 problem(s)");
});

it("prints each route's perKey and queue in the summary of a valid config", () => {
	const run = check(
		[
			"[vars]",
			"[[vars.LIMITS.routes]]",
			'name = "reports"',
			'path = "/reports/*"',
			"limit = 10",
			'perKey = { limit = 2, by = "header:x-api-key" }',
			"queue = { size = 5, maxWaitMs = 2000 }",
		].join("\n"),
	);
	expect(run.status).toBe(0);
	expect(run.stdout).toMatch(/route reports: limit 10, .*perKey 2 by header:x-api-key \(keyless requests share one partition\)/);
	expect(run.stdout).toMatch(/route reports: .*queue 5 for up to 2000 ms/);
});

it("runs first in npm run check, before the typecheck's ~10 s", () => {
	const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
	expect(scripts.check?.split(" && ")[0]).toBe("node dev/check-config.ts");
});
