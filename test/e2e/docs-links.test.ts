// The docs a newcomer reads hold together: every relative link in README.md and docs/*.md names a file that
// exists, and every #anchor a heading of the page it points to (as GitHub spells heading anchors).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

/** Pages other branches are writing now (issues 19 and 20); each leaves this list when it lands. */
const PENDING = new Set<string>([]);

const pages = ["README.md", ...readdirSync(join(root, "docs")).flatMap((name) => (name.endsWith(".md") ? [`docs/${name}`] : []))];

/** The lines of a markdown file outside fenced code blocks, with their line numbers. */
function proseLines(file: string): [number, string][] {
	let fenced = false;
	return readFileSync(join(root, file), "utf8")
		.split("\n")
		.flatMap((line, i): [number, string][] => {
			if (line.startsWith("```")) {
				fenced = !fenced;
				return [];
			}
			return fenced ? [] : [[i + 1, line]];
		});
}

/** GitHub's heading anchor: the heading's text, lower-cased, punctuation dropped, each space a hyphen; repeats get -1, -2. */
function anchors(file: string): Set<string> {
	const seen = new Map<string, number>();
	const out = new Set<string>();
	for (const [, line] of proseLines(file)) {
		const heading = /^#{1,6} (.*)/.exec(line)?.[1];
		if (heading === undefined) continue;
		const text = heading
			.replace(/`([^`]*)`/g, "$1")
			.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
			.replace(/\*\*|__|~~/g, "")
			.trim()
			.toLowerCase();
		const slug = text.replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
		const n = seen.get(slug) ?? 0;
		seen.set(slug, n + 1);
		out.add(n === 0 ? slug : `${slug}-${n}`);
	}
	return out;
}

it("every relative link and #anchor in README.md and docs/*.md resolves", () => {
	const broken: string[] = [];
	let checked = 0;
	for (const page of pages) {
		for (const [no, line] of proseLines(page)) {
			for (const [, target] of line.replace(/`[^`]*`/g, "").matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
				if (!target || /^[a-z]+:/.test(target)) continue;
				checked++;
				const [path = "", anchor] = target.split("#");
				const file = path ? join(dirname(page), path) : page;
				const name = file.replace(/\/$/, "");
				if (!existsSync(join(root, file))) {
					if (!PENDING.has(name)) broken.push(`${page}:${no}: ${target} (no ${name})`);
				} else if (anchor && !(file.endsWith(".md") && anchors(file).has(anchor))) {
					broken.push(`${page}:${no}: ${target} (no heading #${anchor} in ${name})`);
				}
			}
		}
	}
	expect(checked).toBeGreaterThan(20);
	expect(broken).toEqual([]);
});
