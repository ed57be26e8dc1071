// `npm run check`: validates the LIMITS and ORIGIN vars of wrangler.toml (or the file given) before a deploy,
// with the same parser the Worker runs.
import "urlpattern-polyfill";
import { readFileSync } from "node:fs";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import type { Route } from "../src/config/parse.ts";
import { parseConfig } from "../src/config/parse.ts";
import { misplacedGateVars } from "../src/config/placement.ts";
import { blockSettings } from "../src/isolate/block-settings.ts";
import { shareOf } from "../src/object/layout.ts";

const configPath = process.argv[2] ?? "wrangler.toml";
const env = process.argv[3];

/** wrangler's ParseError (a TOML syntax error) carries where it is; anything else only its message. */
interface ParseErrorLike {
	readonly text?: string;
	readonly message: string;
	readonly location?: { readonly line: number; readonly column: number; readonly lineText?: string };
}

/** One line for a file that cannot be read or parsed: `file:line:column: what the parser expected`, exit 1. */
function unreadable(error: unknown): never {
	const e = error as ParseErrorLike;
	const at = e.location ? `${configPath}:${e.location.line}:${e.location.column + 1}` : configPath;
	const line = e.location?.lineText?.trim();
	console.error(`${at}: ${e.text ?? e.message}${line ? ` (in: ${line})` : ""}`);
	process.exit(1);
}

let raw: Record<string, unknown>;
let vars: Record<string, unknown>;
try {
	raw = experimental_readRawConfig({ config: configPath }).rawConfig as Record<string, unknown>;
	vars = unstable_readConfig({ config: configPath, ...(env ? { env } : {}) }).vars;
} catch (error) {
	unreadable(error);
}

// Gate settings the Worker would never see come first: they explain a route missing from the summary.
const text = configPath.endsWith(".toml") ? readFileSync(configPath, "utf8") : "";
const result = parseConfig(vars);
const problems = [
	...misplacedGateVars(raw, text).map(({ line, message }) => (line === null ? message : `${configPath}:${line}: ${message}`)),
	...(result.ok ? [] : result.errors),
];

if (problems.length === 1) {
	const [only = ""] = problems;
	console.error(only.startsWith(`${configPath}:`) ? only : `${configPath}: ${only}`);
	process.exit(1);
} else if (problems.length > 0 || !result.ok) {
	console.error(`${configPath}: ${problems.length} problem(s) in the config:`);
	for (const problem of problems) console.error(`  - ${problem}`);
	process.exit(1);
} else {
	const { routes, fallback, origin } = result.config;
	console.log(`${configPath}: config valid`);
	console.log(`  origin: ${origin?.origin ?? "(the request's own URL: zone route)"}`);
	for (const r of routes)
		console.log(
			`  route ${r.name}: limit ${r.limit}, timeout ${r.originTimeoutMs} ms, lease ${r.maxHoldMs} ms, fail ${r.failMode}, ${perKey(r)}, ${queue(r)}, ${blocks(r)}` +
				(r.locationHint ? `, objects created in ${r.locationHint}` : ""),
		);
	console.log(`  paths: ${JSON.stringify(result.config.paths)}`);
	console.log(`  unmatched requests: ${fallback ? `limit ${fallback.limit}` : "pass through (unlimited)"}`);
}

/** The route's per-key limit as the README words it ("perKey"). */
function perKey(r: Route): string {
	if (!r.perKey) return "no perKey";
	const by = r.perKey.by.kind === "ip" ? "ip" : `${r.perKey.by.kind}:${r.perKey.by.name}`;
	const keyless = r.perKey.missing === "shared" ? "keyless requests share one partition" : "keyless requests count against the route only";
	return `perKey ${r.perKey.limit} by ${by} (${keyless})`;
}

function queue(r: Route): string {
	return r.queue ? `queue ${r.queue.size} for up to ${r.queue.maxWaitMs} ms` : "no queue";
}

/** What the route's blocks come to (docs/blocks.md), resolved as the Worker does for shard 0 (the largest share). */
function blocks(r: Route): string {
	if (!r.blocks) return "blocks off";
	const gaugeLimit = shareOf(r.limit, r.shards, 0);
	const per = r.shards > 1 ? `shard's limit ${gaugeLimit}` : `limit ${gaugeLimit}`;
	const resolved = blockSettings(r, gaugeLimit);
	if (!resolved)
		return `blocks off in effect (blocks of one permit: ${r.blocks.max === null ? `a tenth of the ${per}` : "max"} is under 2)`;
	const capped = r.blocks.max !== null && r.blocks.max > resolved.max ? ` (max ${r.blocks.max} capped at the ${per})` : "";
	return `blocks of up to ${resolved.max} per isolate${capped}, returnAfterMs ${r.blocks.returnAfterMs}`;
}
