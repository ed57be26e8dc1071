// A copy of src/gate/hold-permit.ts (as it was before src/core/hold-response.ts) with one piece switchable off per variant. Bench only.
import { createMiddleware } from "hono/factory";
import type { Route } from "../../src/config/parse.ts";
import { acquire } from "../../src/core/acquire.ts";
import { refusalResponse } from "../../src/core/refusal-response.ts";
import type { GateEnv } from "../../src/gate/types.ts";
import { abortReason, deliveredLength, holdUntilDelivered, READ_AHEAD_BYTES } from "../../src/hold/hold.ts";
import { sampling } from "../../src/isolate/exchange-sample.ts";
import { gaugeNamespace } from "../../src/isolate/stub.ts";
import { holdUntilEnded } from "./hold-ended.ts";
import { holdUntilDeliveredPull } from "./hold-pull.ts";

export interface Knobs {
	/** How the body is held: the JS TransformStream (src), none (release at once), or IdentityTransformStream + pipeTo. */
	body: "js" | "none" | "identity" | "identity-nowait" | "buffer" | "native" | "pull";
	/** waitUntil on the taking promise (the abandoned-acquire guard): always on now, inside src/core/acquire.ts; kept so runs compare. */
	guard: boolean;
	/** Deadline = AbortSignal.any([clientGone, AbortSignal.timeout]) (else clientGone alone). */
	deadline: boolean;
	/** waitUntil(held.done). */
	waitDone: boolean;
	/** Pass the per-request waitUntil to the permits (else a no-op). */
	permitWaitUntil: boolean;
}

export const FULL: Knobs = { body: "js", guard: true, deadline: true, waitDone: true, permitWaitUntil: true };

function holdIdentity(body: ReadableStream<Uint8Array>, release: () => Promise<void>): { body: ReadableStream; done: Promise<void> } {
	const { readable, writable } = new IdentityTransformStream();
	const done = body.pipeTo(writable).then(release, release);
	return { body: readable, done };
}

export function holdVariant(k: Knobs) {
	return createMiddleware<GateEnv>(async function holdPermit(c, next) {
		const route = c.var.route as Route | null;
		const clientGone = c.req.raw.signal;
		if (!route) {
			c.set("deadline", clientGone);
			return next();
		}
		const waitUntil = (p: Promise<unknown>): void => c.executionCtx.waitUntil(p);
		// The abandoned-acquire guard is part of the core's acquire now: `guard` no longer switches it off.
		const admission = await acquire(route, {
			ns: gaugeNamespace(c.env.GAUGE),
			request: c.req.raw,
			waitUntil: k.permitWaitUntil ? waitUntil : () => undefined,
		});
		if (!admission.ok) return refusalResponse(admission.refusal, c.req.raw, route);
		const permits = admission.permits;
		const deadline = k.deadline ? AbortSignal.any([clientGone, AbortSignal.timeout(route.originTimeoutMs)]) : clientGone;
		c.set("deadline", deadline);
		await next();
		const failure = c.error ? "worker-error" : c.var.upstreamFailure;
		const releasing = route.adaptive ? sampling(permits, c.var.exchange) : permits;
		if (failure) await releasing.release(failure);
		else if (!c.res.body) await releasing.release("no-body");
		else if (k.body === "none") void releasing.release("delivered");
		else if (k.body === "buffer" && (deliveredLength(c.res.headers) ?? Number.POSITIVE_INFINITY) <= READ_AHEAD_BYTES) {
			const res = c.res;
			try {
				const bytes = await res.arrayBuffer();
				await releasing.release("delivered");
				c.res = new Response(bytes, res);
			} catch (error) {
				await releasing.release(deadline.aborted ? abortReason(deadline) : "origin-error");
				c.res = new Response(new ReadableStream({ start: (ctl) => ctl.error(error) }), res);
			}
		} else if (k.body === "native" && deliveredLength(c.res.headers) === null && !c.res.headers.has("content-encoding")) {
			const held = holdUntilEnded(c.res.body, releasing, deadline);
			c.executionCtx.waitUntil(held.done);
			c.res = new Response(held.body, c.res);
		} else if (k.body === "pull") {
			const held = holdUntilDeliveredPull(c.res.body, releasing, deadline, deliveredLength(c.res.headers));
			c.executionCtx.waitUntil(held.done);
			c.res = new Response(held.body, c.res);
		} else if (k.body === "identity" || k.body === "identity-nowait") {
			const held = holdIdentity(c.res.body, () => releasing.release("delivered"));
			if (k.body === "identity") c.executionCtx.waitUntil(held.done);
			c.res = new Response(held.body, c.res);
		} else {
			const held = holdUntilDelivered(c.res.body, releasing, deadline, deliveredLength(c.res.headers));
			if (k.waitDone) c.executionCtx.waitUntil(held.done);
			c.res = new Response(held.body, c.res);
		}
	});
}
