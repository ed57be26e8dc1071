// Builds the library into dist/: ESM for the package's two entry points (esbuild, shared chunks, cloudflare:workers
// and hono left to the user's bundler), and declarations (tsc, tsconfig.build.json) whose relative imports name
// the .js files next to them.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

await build({
	entryPoints: { index: join(root, "src/index.ts"), hono: join(root, "src/hono.ts") },
	outdir: dist,
	bundle: true,
	splitting: true,
	format: "esm",
	platform: "neutral",
	target: "es2022",
	external: ["cloudflare:workers", "hono", "hono/*"],
	sourcemap: true,
	logLevel: "warning",
});

execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });

/** `./x.ts` -> `./x.js` in every declaration file (tsc keeps the source's specifiers in declarations). */
function rewrite(dir: string): void {
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) rewrite(path);
		else if (entry.name.endsWith(".d.ts")) {
			const text = readFileSync(path, "utf8");
			writeFileSync(path, text.replace(/((?:from |import\()\s*"\.{1,2}\/[^"]*)\.ts"/g, '$1.js"'));
		}
	}
}
rewrite(join(dist, "types"));
console.log("built dist/ (index.js, hono.js, types/)");
