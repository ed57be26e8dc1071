// Every pointer into the docs in wrangler.toml and the sources (`docs/blocks.md`, `(docs/development.md, "Tests")`,
// `README, "Section"`) names a page that exists and, where it names a section, a heading of that page (or, for the
// README, of any page: sections move as the docs grow). An operator who follows one must land somewhere.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

function filesUnder(dir: string, ext: RegExp): string[] {
	return readdirSync(dir, { withFileTypes: true, recursive: true })
		.filter((e) => e.isFile() && ext.test(e.name))
		.map((e) => join(e.parentPath, e.name));
}

/** Every markdown heading's text, without its #s and backticks, of the given pages. */
function headings(docs: string[]): string[] {
	return docs.flatMap((file) =>
		[...readFileSync(file, "utf8").matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] ?? "").replace(/`/g, "").trim()),
	);
}

it("every docs pointer in wrangler.toml, src/ and dev/ names an existing page and heading", () => {
	const everyPage = [join(root, "README.md"), ...filesUnder(join(root, "docs"), /\.md$/)];
	const sources = [join(root, "wrangler.toml"), ...filesUnder(join(root, "src"), /\.ts$/), ...filesUnder(join(root, "dev"), /\.ts$/)];
	const dangling: string[] = [];
	for (const file of sources) {
		for (const m of readFileSync(file, "utf8").matchAll(/\b(README|docs\/[\w-]+\.md)(?:, "([^"]+)")?/g)) {
			const page = m[1] ?? "";
			const section = m[2];
			const target = page === "README" ? null : join(root, page);
			if (target && !existsSync(target)) {
				dangling.push(`${relative(root, file)}: ${page} (no such page)`);
				continue;
			}
			if (section === undefined) continue;
			const known = headings(target ? [target] : everyPage);
			if (!known.some((h) => h === section || h.startsWith(`${section}:`) || h.startsWith(`${section} `))) {
				dangling.push(`${relative(root, file)}: ${page}, "${section}"`);
			}
		}
	}
	expect(dangling).toEqual([]);
});
