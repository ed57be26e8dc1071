// `npm run check`: validates the LIMITS and ORIGIN vars of wrangler.toml (or the file given) before a deploy,
// with the same parser the Worker runs.
import "urlpattern-polyfill";
import { unstable_readConfig } from "wrangler";
import type { Route } from "../src/config/parse.ts";
import { parseConfig } from "../src/config/parse.ts";
import { blockSettings } from "../src/isolate/block-settings.ts";
import { shareOf } from "../src/object/layout.ts";

const configPath = process.argv[2] ?? "wrangler.toml";
const env = process.argv[3];
const config = unstable_readConfig({ config: configPath, ...(env ? { env } : {}) });
const result = parseConfig(config.vars);

if (result.ok) {
	const { routes, fallback, origin } = result.config;
	console.log(`${configPath}: config valid`);
	console.log(`  origin: ${origin?.origin ?? "(the request's own URL: zone route)"}`);
	for (const r of routes)
		console.log(
			`  route ${r.name}: limit ${r.limit}, timeout ${r.originTimeoutMs} ms, lease ${r.maxHoldMs} ms, fail ${r.failMode}, ${blocks(r)}` +
				(r.locationHint ? `, objects created in ${r.locationHint}` : ""),
		);
	console.log(`  paths: ${JSON.stringify(result.config.paths)}`);
	console.log(`  unmatched requests: ${fallback ? `limit ${fallback.limit}` : "pass through (unlimited)"}`);
} else {
	console.error(`${configPath}: ${result.errors.length} problem(s) in the config:`);
	for (const error of result.errors) console.error(`  - ${error}`);
	process.exit(1);
}

/** What the route's blocks come to (README, "Blocks"), resolved as the Worker does for shard 0 (the largest share). */
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
