// The shape of the LIMITS var in wrangler.toml, with every default in one place.
import { z } from "zod";

/** Defaults for every optional route setting. The README's config reference mirrors these. */
export const DEFAULTS = {
	/** Deadline for the whole proxied exchange: origin headers and body delivery. */
	originTimeoutMs: 30_000,
	/** A lease outlives the exchange's deadline by at least this much (see maxHoldMs). */
	leaseMarginMs: 5_000,
	/** The smallest margin accepted between originTimeoutMs and maxHoldMs. */
	minLeaseMarginMs: 1_000,
	failMode: "closed",
	/** Requests without a key share one partition, so dropping the key does not escape the limit. */
	missingKey: "shared",
	rateLimitHeaders: "refusals",
	dryRun: false,
	/** cutRelease: a cut exchange's permit stays counted this long after the cut (at most until its lease ends). */
	cutGraceMs: 5_000,
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const METHOD = /^[A-Z]+$/;

const limit = z
	.number({ error: "expected an integer >= 1" })
	.int({ error: "expected an integer >= 1" })
	.min(1, { error: "expected an integer >= 1" });

const millis = z
	.number({ error: "expected a whole number of milliseconds >= 1" })
	.int({ error: "expected a whole number of milliseconds >= 1" })
	.min(1, { error: "expected a whole number of milliseconds >= 1" });

/** A URLPattern's complaint about `init`, or null when it compiles. */
function patternError(init: URLPatternInit): string | null {
	try {
		new URLPattern(init);
		return null;
	} catch (error) {
		return (error as Error).message;
	}
}

const path = z
	.string({ error: 'expected a URL path pattern starting with "/", e.g. "/api/*"' })
	.refine((p) => p.startsWith("/"), { error: 'expected a URL path pattern starting with "/", e.g. "/api/*"' })
	.superRefine((value, ctx) => {
		const error = value.startsWith("/") ? patternError({ pathname: value }) : null;
		if (error) ctx.addIssue({ code: "custom", message: `expected a valid URLPattern path (${error})` });
	});

const host = z.string({ error: 'expected a host name pattern, e.g. "api.example.com" or "*.example.com"' }).superRefine((value, ctx) => {
	const error = patternError({ hostname: value });
	if (error) ctx.addIssue({ code: "custom", message: `expected a valid URLPattern host name (${error})` });
});

const KEY_SOURCE = /^(ip|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+|cookie:[A-Za-z0-9!#$%&'*+.^_`|~-]+)$/;

const table = (what: string) => ({
	error: (issue: { code: string }) => (issue.code === "unrecognized_keys" ? undefined : `expected a table (${what})`),
});

const perKey = z.strictObject(
	{
		limit,
		by: z.string({ error: 'expected "ip", "header:<name>" or "cookie:<name>"' }).regex(KEY_SOURCE, {
			error: 'expected "ip", "header:<name>" or "cookie:<name>"',
		}),
		missing: z.enum(["shared", "route-only"], { error: 'expected "shared" or "route-only"' }).optional(),
	},
	table("perKey = { limit, by, missing }"),
);

const queue = z.strictObject(
	{
		size: limit.describe("queue size"),
		maxWaitMs: millis,
	},
	table("queue = { size, maxWaitMs }"),
);

/** What happens to the permit of an exchange cut short (client gone, body cancelled, deadline passed). */
const cutRelease = z.union([z.literal("immediate"), z.strictObject({ graceMs: millis }, table("cutRelease = { graceMs }"))], {
	error: 'expected "immediate" or { graceMs = <milliseconds> }',
});

/** Settings every route has, including the default route. */
const routeSettings = {
	originTimeoutMs: millis.optional(),
	maxHoldMs: millis.optional(),
	failMode: z.enum(["closed", "open"], { error: 'expected "closed" or "open"' }).optional(),
	perKey: perKey.optional(),
	queue: queue.optional(),
	dryRun: z.boolean({ error: "expected true or false" }).optional(),
	rateLimitHeaders: z.enum(["refusals", "all", "none"], { error: 'expected "refusals", "all" or "none"' }).optional(),
	shards: limit.optional(),
	cutRelease: cutRelease.optional(),
};

export const RouteRuleInput = z.strictObject(
	{
		name: z.string({ error: "expected a string" }).regex(NAME, {
			error: "expected 1-63 letters, digits, '-' or '_', starting with a letter or digit",
		}),
		path,
		methods: z
			.array(z.string().regex(METHOD, { error: 'expected an upper-case HTTP method, e.g. "GET"' }), {
				error: 'expected a list of HTTP methods, e.g. ["GET", "HEAD"]',
			})
			.min(1, { error: "expected at least one method (leave the field out to match every method)" })
			.optional(),
		host: host.optional(),
		limit,
		...routeSettings,
	},
	{ error: (issue) => (issue.code === "unrecognized_keys" ? undefined : "expected a table of route settings") },
);

export const DefaultRouteInput = z.strictObject(
	{
		limit: z.union([limit, z.literal("unlimited")], { error: 'expected an integer >= 1 or "unlimited"' }),
		...routeSettings,
	},
	{ error: (issue) => (issue.code === "unrecognized_keys" ? undefined : "expected a table of route settings") },
);

/** The outer table only: each route is parsed on its own, so one bad route hides no other problem. */
export const LimitsInput = z.strictObject(
	{
		routes: z.array(z.unknown(), { error: "expected a list of route tables ([[vars.LIMITS.routes]])" }).default([]),
		default: z.unknown().default({ limit: "unlimited" }),
	},
	{ error: (issue) => (issue.code === "unrecognized_keys" ? undefined : "expected a table ([vars.LIMITS])") },
);

export type RouteRuleInput = z.infer<typeof RouteRuleInput>;
export type DefaultRouteInput = z.infer<typeof DefaultRouteInput>;
