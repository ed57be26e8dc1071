// The settings a fair route (perKey.fair), a route with priority classes or an adaptive queue cannot be combined with, checked once with the rest.
import type { DefaultRouteInput } from "./schema.ts";

type Rule = Pick<DefaultRouteInput, "perKey" | "blocks" | "classes" | "queue">;

/**
 * Whether a route's keys share it max-min fairly: `perKey.fair`, which defaults to true for `perKey = { by }` and to
 * false where `perKey.limit` is set, so a config written before fair shares existed (a fixed ceiling per key,
 * perhaps with blocks) keeps working as it did. A limit and `fair = true` together: fair shares, the limit on top.
 */
export function isFair(rule: Rule): boolean {
	return rule.perKey !== undefined && (rule.perKey.fair ?? rule.perKey.limit === undefined);
}

/**
 * Fair shares, class caps and an adaptive queue's order (LIFO, CoDel) are decided by the route's object, so it must
 * see every admission: no blocks there.
 */
export function needsEveryAdmission(rule: Rule): boolean {
	return isFair(rule) || rule.classes !== undefined || rule.queue?.order === "adaptive";
}

/**
 * Reports (and returns false for) what a fair route cannot do:
 * - blocks: an isolate admits under its block without asking the route's object, which then cannot hold each key to
 *   its share; a fair route takes one object call per request (blocks default to off there);
 * - perKey without a limit and without fair limits nothing.
 */
export function checkFairness(rule: Rule, at: string, errors: string[]): boolean {
	const before = errors.length;
	const perKey = rule.perKey;
	if (perKey && perKey.fair === false && perKey.limit === undefined) {
		errors.push(`${at}.perKey: got fair = false and no limit, expected a limit (a fixed ceiling per key) or fair = true (fair shares)`);
	}
	if (isFair(rule) && rule.blocks !== undefined && rule.blocks !== "off") {
		errors.push(
			`${at}.blocks: got ${JSON.stringify(rule.blocks)}, expected "off" or nothing on a fair route (perKey.fair): fair shares need the route's object to see every admission, and a block admits without it (set perKey.fair = false to use blocks)`,
		);
	} else if (rule.classes !== undefined && rule.blocks !== undefined && rule.blocks !== "off") {
		errors.push(
			`${at}.blocks: got ${JSON.stringify(rule.blocks)}, expected "off" or nothing on a route with classes: class caps need the route's object to see every admission, and a block admits without it`,
		);
	} else if (rule.queue?.order === "adaptive" && rule.blocks !== undefined && rule.blocks !== "off") {
		errors.push(
			`${at}.blocks: got ${JSON.stringify(rule.blocks)}, expected "off" or nothing on a route whose queue is adaptive: LIFO and CoDel need the route's object to hand out every freed permit, and a block admits without it`,
		);
	}
	return errors.length === before;
}
