// Gate settings written where the Worker never reads them: `[[LIMITS.routes]]` instead of `[[vars.LIMITS.routes]]`,
// `ORIGIN = …` above `[vars]`, `[env.x.LIMITS]` instead of `[env.x.vars.LIMITS]`, `[vars.LIMIT]`. wrangler only
// warns ("Unexpected fields"), the route is never gated, and a gate must not let a limit silently not exist.
import { closest } from "./suggest.ts";

/** The vars the gate reads (src/config/parse.ts, ConfigVars). */
export const GATE_VARS = ["LIMITS", "ORIGIN", "ADMIN_PREFIX", "PATHS"] as const;

export interface Misplaced {
	/** 1-based line in the config file where it starts, when the file's text shows it. */
	readonly line: number | null;
	readonly message: string;
}

type Table = Record<string, unknown>;

const isTable = (value: unknown): value is Table => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Every gate var outside `vars`, at the top level and in each `[env.NAME]`, and every var in a `vars` table that
 * is a near miss of a gate var. `raw` is the config file as parsed (wrangler's raw config); `text` its source,
 * read for line numbers only.
 */
export function misplacedGateVars(raw: Table, text = ""): Misplaced[] {
	const lines = text.split("\n");
	const found: Misplaced[] = [];
	const scopes: { prefix: string; table: Table }[] = [{ prefix: "", table: raw }];
	if (isTable(raw.env)) {
		for (const [name, table] of Object.entries(raw.env)) if (isTable(table)) scopes.push({ prefix: `env.${name}.`, table });
	}
	for (const { prefix, table } of scopes) {
		const vars = `${prefix}vars`;
		for (const key of GATE_VARS) {
			if (!(key in table)) continue;
			const at = locate(lines, prefix, key);
			const instead = at?.header ? at.header.replace(`${prefix}${key}`, `${vars}.${key}`) : `it under [${vars}]`;
			found.push({
				line: at?.line ?? null,
				message: `${prefix}${key} is outside [${vars}], so the Worker never sees it (wrangler only warns "Unexpected fields"): write ${instead}`,
			});
		}
		const inVars = table.vars;
		if (!isTable(inVars)) continue;
		for (const key of Object.keys(inVars)) {
			if ((GATE_VARS as readonly string[]).includes(key)) continue;
			const meant = closest(key, GATE_VARS);
			if (meant === null) continue;
			found.push({
				line: locate(lines, `${vars}.`, key)?.line ?? null,
				message: `${vars}.${key} is not a var the gate reads: did you mean ${meant}?`,
			});
		}
	}
	return found;
}

/**
 * Where `prefix + key` is written: a table header (`[LIMITS]`, `[[env.x.LIMITS.routes]]`, its text returned with
 * it), or `key = …` inside the table that `prefix` names (the top level when it is empty).
 */
function locate(lines: readonly string[], prefix: string, key: string): { line: number; header: string | null } | null {
	const dotted = `${prefix}${key}`;
	const owner = prefix.replace(/\.$/, "");
	let current = "";
	for (const [i, text] of lines.entries()) {
		const header = /^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)/.exec(text);
		if (header) {
			const name = (header[2] ?? "").replace(/\s+/g, "");
			if (name === dotted || name.startsWith(`${dotted}.`)) return { line: i + 1, header: `${header[1]}${name}${header[3]}` };
			current = name;
			continue;
		}
		if (current === owner && new RegExp(`^\\s*${key}\\s*[=.]`).test(text)) return { line: i + 1, header: null };
	}
	return null;
}
