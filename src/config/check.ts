// A small validator for the config's tables: it collects every problem with its path, so each one can be
// reported with the field, the value and what was expected. (zod's classic API cost the bundle ~765 KB; docs/development.md.)

export type Path = readonly (string | number)[];

/** One problem at `path`: what was expected there, or null for a key that no setting has. */
export interface Issue {
	readonly path: Path;
	readonly expected: string | null;
	/** For an unknown key: the keys its table has. */
	readonly known?: readonly string[];
}

/** What a check returns for a value it rejected, after reporting why. */
export const INVALID: unique symbol = Symbol("invalid");

/** Returns `value` (typed) or INVALID after pushing its problems onto `issues`. */
export type Check<T> = (value: unknown, path: Path, issues: Issue[]) => T | typeof INVALID;

export type Output<C> = C extends Check<infer T> ? T : never;

export type Result<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

export function validate<T>(check: Check<T>, value: unknown): Result<T> {
	const issues: Issue[] = [];
	const checked = check(value, [], issues);
	return checked === INVALID || issues.length > 0 ? { ok: false, issues } : { ok: true, value: checked };
}

/** A check from a function that says what was expected when `value` is wrong, or null when it is right. */
export function check<T>(problem: (value: unknown) => string | null): Check<T> {
	return function checkValue(value, path, issues) {
		const expected = problem(value);
		return expected === null ? (value as T) : report(issues, path, expected);
	};
}

/** Values `test` accepts; anything else is one problem, `expected`. */
export function is<T>(test: (value: unknown) => value is T, expected: string): Check<T> {
	return check((value) => (test(value) ? null : expected));
}

/** A string that `pattern` matches. */
export function matching(pattern: RegExp, expected: string): Check<string> {
	return is((value): value is string => typeof value === "string" && pattern.test(value), expected);
}

/** One of `values` (compared with ===). */
export function oneOf<const T extends readonly unknown[]>(values: T, expected: string): Check<T[number]> {
	return is((value): value is T[number] => values.includes(value), expected);
}

export const anything: Check<unknown> = (value) => value;

export function optional<T>(inner: Check<T>): Check<T | undefined>;
export function optional<T>(inner: Check<T>, fallback: T): Check<T>;
export function optional<T>(inner: Check<T>, fallback?: T): Check<T | undefined> {
	return (value, path, issues) => (value === undefined ? fallback : inner(value, path, issues));
}

/** An array whose every item passes `item`; `emptyExpected`, when given, rejects an empty one. */
export function list<T>(item: Check<T>, expected: string, emptyExpected?: string): Check<T[]> {
	return function checkList(value, path, issues) {
		if (!Array.isArray(value)) return report(issues, path, expected);
		if (value.length === 0 && emptyExpected !== undefined) return report(issues, path, emptyExpected);
		const items = value.map((v, i) => item(v, [...path, i], issues));
		return items.includes(INVALID) ? INVALID : (items as T[]);
	};
}

type Shape = Record<string, Check<unknown>>;

/** A TOML table with exactly the keys of `shape` (each optional only if its check says so). */
export function table<S extends Shape>(shape: S, expected: string): Check<{ [K in keyof S]: Output<S[K]> }> {
	return function checkTable(value, path, issues) {
		if (typeof value !== "object" || value === null || Array.isArray(value)) return report(issues, path, expected);
		const input = value as Record<string, unknown>;
		const output: Record<string, unknown> = {};
		let valid = true;
		for (const key of Object.keys(input)) {
			if (!Object.hasOwn(shape, key)) {
				issues.push({ path: [...path, key], expected: null, known: Object.keys(shape) });
				valid = false;
			}
		}
		for (const [key, field] of Object.entries(shape)) {
			const checked = field(input[key], [...path, key], issues);
			if (checked === INVALID) valid = false;
			else output[key] = checked;
		}
		return valid ? (output as { [K in keyof S]: Output<S[K]> }) : INVALID;
	};
}

function report(issues: Issue[], path: Path, expected: string): typeof INVALID {
	issues.push({ path, expected });
	return INVALID;
}
