// Which priority class a request belongs to: the first class whose match it meets, else the route's default class.
import type { ClassMatch, PriorityClasses } from "../config/classes.ts";
import { cookieValue } from "./partition.ts";

/**
 * The index of the request's class (0: most critical). `chosen` is a class a face's function already picked for it (the
 * library's `match` functions): it wins over the matches of the config.
 */
export function classify(request: Request, classes: PriorityClasses, chosen?: number, path?: string): number {
	if (chosen !== undefined) return chosen;
	const url = new URL(request.url);
	// The gate matches on the canonical path (README, "Path normalization"): "/ch%65ckout" is "/checkout" here too.
	if (path !== undefined) url.pathname = path;
	const found = classes.list.findIndex((c) => c.match !== null && meets(request, url, c.match));
	return found === -1 ? classes.defaultIndex : found;
}

/**
 * The library's form: a class's `match` may be a function of the face's context (`matchers[i]`, called in order until
 * one says yes); classes without one match as the config says. Returns the class index for `classify`'s `chosen`.
 */
export async function classifyWith<C>(
	request: Request,
	classes: PriorityClasses,
	matchers: readonly (((context: C) => boolean | Promise<boolean>) | null)[],
	context: C,
): Promise<number> {
	const url = new URL(request.url);
	for (const [i, c] of classes.list.entries()) {
		const matcher = matchers[i];
		if (matcher ? await matcher(context) : c.match !== null && meets(request, url, c.match)) return i;
	}
	return classes.defaultIndex;
}

function meets(request: Request, url: URL, match: ClassMatch): boolean {
	if (match.pattern && !match.pattern.test({ pathname: url.pathname, hostname: url.hostname })) return false;
	if (match.methods && !match.methods.has(request.method)) return false;
	if (match.header && request.headers.get(match.header.name) !== match.header.value) return false;
	if (match.cookie && cookieValue(request.headers.get("cookie"), match.cookie.name) !== match.cookie.value) return false;
	return true;
}
