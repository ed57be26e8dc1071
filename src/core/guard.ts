// Runs a handler behind a gauge: admit or refuse, then hold the permits around whatever the handler answers, with
// the handler's deadline (handlerTimeoutMs). What the Hono middleware and the fetch wrapper share, over acquire and
// holdResponse: the same admission and the same holds as the standalone gate.
import type { Route } from "../config/parse.ts";
import { abortReason } from "../hold/hold.ts";
import type { Exchange } from "../isolate/exchange-sample.ts";
import type { ReleaseReason } from "../isolate/permit-types.ts";
import { badGateway, clientClosedRequest } from "../responses/refusal.ts";
import type { AdmissionInput, Refusal } from "./acquire.ts";
import { acquire } from "./acquire.ts";
import { deadlineFor, holdResponse } from "./hold-response.ts";

/** What the handler did: its response, and whether it failed (Hono's compose turns a throw into a 500 and c.error). */
export interface Handled {
	readonly response: Response;
	readonly failed: boolean;
}

/**
 * The response for the request: a refusal (shaped by `refused`), or the handler's response with the permits held
 * until its body is over. The permits go back exactly once: on delivery, cancel or error of the body; at once for a
 * null body or a failed handler; at the deadline (the client then gets a 504, or nothing if it left); and if the
 * handler throws (the error is rethrown after the release).
 */
export async function guard(
	route: Route,
	input: AdmissionInput,
	handler: (deadline: AbortSignal) => Promise<Handled>,
	refused: (refusal: Refusal) => Response | Promise<Response>,
): Promise<Response> {
	const admission = await acquire(route, input);
	if (!admission.ok) return refused(admission.refusal);
	const deadline = deadlineFor(route, input.request.signal);
	const startedAt = Date.now();
	let handled: Handled | null;
	const work = handler(deadline);
	try {
		handled = await beforeDeadline(work, deadline);
	} catch (error) {
		await admission.permits.release("worker-error");
		throw error;
	}
	if (!handled) {
		// The handler is still running, but its request is over for the gauge: the permit goes back now, and a
		// response it makes later is dropped with its body cancelled (nobody will read it).
		work.then((late) => late.response.body?.cancel().catch(() => undefined)).catch(() => undefined);
		const reason: ReleaseReason = abortReason(deadline);
		await admission.permits.release(reason);
		return reason === "origin-timeout" ? badGateway(true, input.request.headers.get("accept")) : clientClosedRequest();
	}
	const { failed } = handled;
	const response = handled.response.body && input.request.method === "HEAD" ? withoutBody(handled.response) : handled.response;
	const exchange: Exchange = { startedAt, rttMs: Date.now() - startedAt, status: failed ? null : response.status };
	try {
		return await holdResponse(response, admission, route, {
			deadline,
			waitUntil: input.waitUntil,
			failure: failed ? "worker-error" : undefined,
			exchange,
		});
	} catch (error) {
		// A response the holds cannot take (a bug, here or in the handler's Response): the permit still goes back.
		await admission.permits.release("worker-error");
		throw error;
	}
}

/**
 * A HEAD's response carries no content (RFC 9110 §9.3.2). A framework that serves HEAD with its GET handler may
 * drop that handler's body without cancelling it (Hono's app.fetch does), so a body held until it ends would end
 * only at the deadline: it is cancelled here, and the permit goes back at once, as for any response without a body.
 */
function withoutBody(res: Response): Response {
	res.body?.cancel().catch(() => undefined);
	return new Response(null, res);
}

/** The handler's result, or null if `deadline` aborts first (a late result or error is then dropped). */
function beforeDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T | null> {
	if (deadline.aborted) {
		work.catch(() => undefined);
		return Promise.resolve(null);
	}
	return new Promise<T | null>((resolve, reject) => {
		const onAbort = (): void => resolve(null);
		deadline.addEventListener("abort", onAbort, { once: true });
		work.then(
			(value) => {
				deadline.removeEventListener("abort", onAbort);
				resolve(value);
			},
			(error: unknown) => {
				deadline.removeEventListener("abort", onAbort);
				reject(error);
			},
		);
	});
}
