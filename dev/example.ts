// The example a user copies (examples/hono-app/), run as a user would: `install` packs this package (prepack builds
// it) and installs the tarball into the example; `check` then type-checks it and dry-runs its deploy. `npm test`
// runs `install` first (its tests import the installed package), `npm run check` runs `check`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const example = join(root, "examples/hono-app");
const node = process.execPath;
const npmCli = process.env.npm_execpath;
const bin = (name: string): string => join(root, "node_modules", name);

/** npm with the Node running this script (the `node` devDependency's, when run from an npm script). */
function npm(args: string[], cwd: string): void {
	if (npmCli) execFileSync(node, [npmCli, ...args], { cwd, stdio: ["ignore", "inherit", "inherit"] });
	else execFileSync("npm", args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
}

function install(): void {
	const out = mkdtempSync(join(tmpdir(), "pressure-gauge-pack-"));
	try {
		npm(["pack", "--silent", "--pack-destination", out], root);
		const tarball = readdirSync(out).find((f) => f.endsWith(".tgz"));
		if (!tarball) throw new Error("npm pack wrote no tarball");
		// --no-save: the example's package.json keeps "file:../.." for a reader; what runs is the tarball a user gets.
		npm(["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--silent", join(out, tarball)], example);
	} finally {
		rmSync(out, { recursive: true, force: true });
	}
}

function check(): void {
	const wrangler = bin("wrangler/bin/wrangler.js");
	execFileSync(node, [wrangler, "types", "--check"], { cwd: example, stdio: "inherit" });
	execFileSync(node, [bin("typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: example, stdio: "inherit" });
	execFileSync(node, [wrangler, "deploy", "--dry-run", "--outdir", join(root, ".wrangler/example-bundle")], {
		cwd: example,
		stdio: "inherit",
	});
}

const command = process.argv[2];
if (command === "install") install();
else if (command === "check") {
	install();
	check();
} else throw new Error(`usage: node dev/example.ts install|check (got ${command})`);
