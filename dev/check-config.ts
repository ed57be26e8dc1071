// `npm run check`: validates the LIMITS and ORIGIN vars of wrangler.toml (or the file given) before a deploy,
// with the same parser the Worker runs.
import "urlpattern-polyfill";
import { unstable_readConfig } from "wrangler";
import { parseConfig } from "../src/config/parse.ts";

const configPath = process.argv[2] ?? "wrangler.toml";
const env = process.argv[3];
const config = unstable_readConfig({ config: configPath, ...(env ? { env } : {}) });
const result = parseConfig(config.vars);

if (result.ok) {
	const { routes, fallback, origin } = result.config;
	console.log(`${configPath}: config valid`);
	console.log(`  origin: ${origin?.origin ?? "(the request's own URL: zone route)"}`);
	for (const r of routes)
		console.log(`  route ${r.name}: limit ${r.limit}, timeout ${r.originTimeoutMs} ms, lease ${r.maxHoldMs} ms, fail ${r.failMode}`);
	console.log(`  paths: ${JSON.stringify(result.config.paths)}`);
	console.log(`  unmatched requests: ${fallback ? `limit ${fallback.limit}` : "pass through (unlimited)"}`);
} else {
	console.error(`${configPath}: ${result.errors.length} problem(s) in the config:`);
	for (const error of result.errors) console.error(`  - ${error}`);
	process.exit(1);
}
