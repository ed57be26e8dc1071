// The framework-free faces: withGauge wraps a plain fetch handler; acquire is the low-level call beneath it, for
// code that holds a permit itself. Both run on the core that the Hono middleware and the standalone gate share.
import type { Refusal } from "./core/acquire.ts";
import { acquire as admit } from "./core/acquire.ts";
import { DEFAULT_BINDING, namespaceFrom } from "./core/binding.ts";
import { guard } from "./core/guard.ts";
import { deadlineFor, holdResponse } from "./core/hold-response.ts";
import type { Built, GaugeOptions, OnRefused } from "./core/options.ts";
import { buildGauge, checkFaceSettings } from "./core/options.ts";
import { refusalResponse } from "./core/refusal-response.ts";
import type { Gauge } from "./object/durable-object.ts";

/** What a fetch handler is called with, handed to the key, binding and onRefused functions. */
export interface FetchContext<E = unknown> {
	readonly request: Request;
	readonly env: E;
	readonly ctx: ExecutionContext;
}

export interface FetchGaugeOptions<E = unknown> extends GaugeOptions<FetchContext<E>> {
	/** The Gauge namespace to ask. Default: `env.GAUGE`. */
	readonly binding?: (context: FetchContext<E>) => DurableObjectNamespace<Gauge>;
	/** Shapes a refusal. Default: 429/503 with Retry-After and RateLimit fields, problem+json if the client asks (refusalResponse). */
	readonly onRefused?: OnRefused<FetchContext<E>>;
}

export type FetchHandler<E> = (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>;

/**
 * Wraps a fetch handler in a gauge: at most `limit` calls in flight worldwide, each holding its permit until its
 * response body has been delivered, cancelled or errored. Options are checked here, once (it throws on bad ones);
 * building does no I/O and starts no timer, so it is safe at module scope. A handler that throws gives its permit
 * back and the error propagates (the runtime answers 500).
 *
 * @example
 * ```ts
 * import { Gauge, withGauge } from "pressure-gauge";
 * export { Gauge };
 * export default { fetch: withGauge({ name: "search", limit: 10 }, (request) => search(request)) };
 * ```
 */
export function withGauge<E = unknown>(options: FetchGaugeOptions<E>, handler: FetchHandler<E>): FetchHandler<E> {
	const built = buildGauge("withGauge()", options, [...checkFaceSettings(options), ...checkHandler(handler)]);
	return async function gauged(request, env, ctx) {
		const context: FetchContext<E> = { request, env, ctx };
		const input = await inputFor("withGauge()", built, options, context);
		return guard(
			built.route,
			input,
			async () => ({ response: await handler(request, env, ctx), failed: false }),
			(refusal) => (options.onRefused ? options.onRefused(refusal, context) : refusalResponse(refusal, request, built.route)),
		);
	};
}

/** A permit held by code that asked for it with `acquire`. */
export interface GaugePermit {
	/** Aborts at the gauge's deadline (handlerTimeoutMs) or when the client goes away: stop the work then. */
	readonly signal: AbortSignal;
	/** Holds the permit until `response`'s body is over (as withGauge does); send the response it returns. */
	hold(response: Response): Promise<Response>;
	/** Gives the permit back now. Idempotent: after hold, or a second call, it does nothing. */
	release(): Promise<void>;
}

export type AcquireResult =
	| { readonly ok: true; readonly permit: GaugePermit }
	/** `response` is what withGauge would answer (or `onRefused`'s). */
	| { readonly ok: false; readonly refusal: Refusal; response(): Promise<Response> };

const builtOptions = new WeakMap<object, Built<FetchContext<never>>>();

/**
 * Takes the request's permits, or says why not, as a value. The permit must be released, by `hold(response)` or
 * `release()`; a permit never released comes back when its lease ends (maxHoldMs). Options are checked on the
 * first call with that options object (keep it in a constant).
 */
export async function acquire<E = unknown>(options: FetchGaugeOptions<E>, context: FetchContext<E>): Promise<AcquireResult> {
	let built = builtOptions.get(options) as Built<FetchContext<E>> | undefined;
	if (!built) {
		built = buildGauge("acquire()", options, checkFaceSettings(options));
		builtOptions.set(options, built as Built<FetchContext<never>>);
	}
	const { route } = built;
	const input = await inputFor("acquire()", built, options, context);
	const admission = await admit(route, input);
	if (!admission.ok) {
		const { refusal } = admission;
		return {
			ok: false,
			refusal,
			response: async () => (options.onRefused ? options.onRefused(refusal, context) : refusalResponse(refusal, context.request, route)),
		};
	}
	const deadline = deadlineFor(route, context.request.signal);
	const startedAt = Date.now();
	return {
		ok: true,
		permit: {
			signal: deadline,
			hold: (response) =>
				holdResponse(response, admission, route, {
					deadline,
					waitUntil: input.waitUntil,
					exchange: { startedAt, rttMs: Date.now() - startedAt, status: response.status },
				}),
			release: () => admission.permits.release("delivered"),
		},
	};
}

async function inputFor<E>(face: string, built: Built<FetchContext<E>>, options: FetchGaugeOptions<E>, context: FetchContext<E>) {
	const found = options.binding ? options.binding(context) : (context.env as Record<string, unknown> | null)?.[DEFAULT_BINDING];
	const ns = namespaceFrom(face, found, options.binding !== undefined);
	const key = built.route.perKey && built.keyOf ? ((await built.keyOf(context)) ?? null) : undefined;
	const priority = built.classOf ? await built.classOf(context.request, context) : undefined;
	return { ns, request: context.request, waitUntil: (p: Promise<unknown>) => context.ctx.waitUntil(p), key, priority };
}

function checkHandler(handler: unknown): string[] {
	return typeof handler === "function" ? [] : [`handler: got ${typeof handler}, expected a function (request, env, ctx) => Response`];
}
