// pressure-gauge/hono: the gauge as Hono middleware, on the same core as withGauge and the standalone gate.
import type { Context, Env, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Refusal } from "./core/acquire.ts";
import { DEFAULT_BINDING, namespaceFrom } from "./core/binding.ts";
import { guard } from "./core/guard.ts";
import type { GaugeOptions } from "./core/options.ts";
import { buildGauge, checkFaceSettings } from "./core/options.ts";
import { refusalResponse } from "./core/refusal-response.ts";
import type { Gauge } from "./object/durable-object.ts";

export type { Refusal } from "./core/acquire.ts";
export type { KeySource } from "./core/options.ts";

export interface HonoGaugeOptions<E extends Env = Env> extends GaugeOptions<Context<E>> {
	/** The Gauge namespace to ask. Default: `c.env.GAUGE`. */
	readonly binding?: (c: Context<E>) => DurableObjectNamespace<Gauge>;
	/** Shapes a refusal. Default: 429/503 with Retry-After and RateLimit fields, problem+json if the client asks. */
	readonly onRefused?: (refusal: Refusal, c: Context<E>) => Response | Promise<Response>;
}

/**
 * Gauge Middleware for Hono: at most `limit` requests in the handlers behind it at once, across every isolate and
 * location, each holding its permit until its response body has been delivered, cancelled or errored. Refused
 * requests get a 429 at once (or wait in `queue`). Options are checked when the middleware is built (it throws on
 * bad ones); building does no I/O and starts no timer, so it is safe at module scope.
 *
 * Your Worker re-exports the `Gauge` Durable Object class from `pressure-gauge` and binds it as `GAUGE`
 * (docs/library.md has the wrangler.toml lines).
 *
 * @example
 * ```ts
 * const app = new Hono()
 *
 * app.get('/search', gauge({ name: 'search', limit: 10 }), (c) => c.json(search(c.req.query('q'))))
 *
 * app.post(
 *   '/checkout',
 *   gauge({ name: 'checkout', limit: 50, perKey: { limit: 2, by: (c) => c.req.header('x-user-id') } }),
 *   (c) => checkout(c)
 * )
 *
 * export { Gauge } from 'pressure-gauge'
 * export default app
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: as in Hono's own middleware, so that one middleware fits any app's Env.
export const gauge = <E extends Env = any>(options: HonoGaugeOptions<E>): MiddlewareHandler<E> => {
	const { route, keyOf, classOf } = buildGauge("gauge()", options, checkFaceSettings(options));
	return createMiddleware<E>(async function gauge(c, next) {
		const found = options.binding ? options.binding(c) : (c.env as Record<string, unknown> | undefined)?.[DEFAULT_BINDING];
		const ns = namespaceFrom("gauge()", found, options.binding !== undefined);
		const key = route.perKey && keyOf ? ((await keyOf(c)) ?? null) : undefined;
		const priority = classOf ? await classOf(c.req.raw, c) : undefined;
		const waitUntil = waitUntilOf(c);
		const res = await guard(
			route,
			{ ns, request: c.req.raw, waitUntil, key, priority },
			async () => {
				// Hono's compose catches a handler's error, answers it (onError) and sets c.error: the permit goes back
				// at once, and the error response is sent as any other.
				await next();
				return { response: c.res, failed: c.error !== undefined };
			},
			(refusal) => (options.onRefused ? options.onRefused(refusal, c) : refusalResponse(refusal, c.req.raw, route)),
		);
		// Hono's c.res setter copies the old response's headers onto the new one and rebuilds it (a 101 would lose
		// its webSocket): clear it first.
		c.res = undefined;
		c.res = res;
	});
};

/**
 * The request's waitUntil. Hono's c.executionCtx throws where there is none (app.request(path, init, env) in a
 * test): the releases then run as plain promises, which the test's own request keeps alive.
 */
function waitUntilOf(c: Context): (promise: Promise<unknown>) => void {
	try {
		const ctx = c.executionCtx;
		return (promise) => ctx.waitUntil(promise);
	} catch {
		return (promise) => void promise.catch(() => undefined);
	}
}
