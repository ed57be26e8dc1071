// Every `README, "Section"` pointer in wrangler.toml and the sources names a heading that exists, in README.md or
// in docs/*.md (where sections move as the docs grow): an operator who follows one must land somewhere.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

function filesUnder(dir: string, ext: RegExp): string[] {
	return readdirSync(dir, { withFileTypes: true, recursive: true })
		.filter((e) => e.isFile() && ext.test(e.name))
		.map((e) => join(e.parentPath, e.name));
}

/** Every markdown heading's text, without its #s and backticks. */
function headings(): string[] {
	const docs = [join(root, "README.md"), ...filesUnder(join(root, "docs"), /\.md$/)];
	return docs.flatMap((file) =>
		[...readFileSync(file, "utf8").matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] ?? "").replace(/`/g, "").trim()),
	);
}

it("every README pointer in wrangler.toml, src/ and dev/ names an existing heading", () => {
	const known = headings();
	const sources = [join(root, "wrangler.toml"), ...filesUnder(join(root, "src"), /\.ts$/), ...filesUnder(join(root, "dev"), /\.ts$/)];
	const dangling: string[] = [];
	for (const file of sources) {
		for (const m of readFileSync(file, "utf8").matchAll(/README, "([^"]+)"/g)) {
			const section = m[1] ?? "";
			if (!known.some((h) => h === section || h.startsWith(`${section}:`) || h.startsWith(`${section} `))) {
				dangling.push(`${relative(root, file)}: README, "${section}"`);
			}
		}
	}
	expect(dangling).toEqual([]);
});
