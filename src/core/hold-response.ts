// Holds an admitted request's permits around its response, whoever made it (the origin behind the gate, or the
// user's handler): until the body is delivered, cancelled or errored; at once for a null body or a failure; for a
// held WebSocket, until the socket closes. The one implementation every face shares.
import type { Route } from "../config/parse.ts";
import { heldResponse } from "../hold/hold-native.ts";
import { holdUntilClosed } from "../hold/websocket.ts";
import type { Exchange } from "../isolate/exchange-sample.ts";
import { sampling } from "../isolate/exchange-sample.ts";
import type { ReleaseReason, WaitUntil } from "../isolate/permit-types.ts";
import { setRateLimitHeaders } from "../responses/ratelimit-headers.ts";
import type { Admitted } from "./acquire.ts";

/** Marks a response that dry-run mode admitted although a limit would have refused it. */
export const DRY_RUN_HEADER = "pressure-gauge-dry-run";

/** Aborts when the exchange must stop: the route's deadline (originTimeoutMs), or the client going away. */
export function deadlineFor(route: Pick<Route, "originTimeoutMs">, clientGone: AbortSignal): AbortSignal {
	return AbortSignal.any([clientGone, AbortSignal.timeout(route.originTimeoutMs)]);
}

export interface HoldContext {
	readonly deadline: AbortSignal;
	readonly waitUntil: WaitUntil;
	/** The exchange failed (the handler threw, the origin failed or timed out): release at once, with this reason. */
	readonly failure?: ReleaseReason | undefined;
	/** How the exchange went (when asked, how long the headers took, the status), for an adaptive route's sample. */
	readonly exchange?: Exchange | undefined;
}

/**
 * The response to send, holding `admitted`'s permits until it is over. The returned response may be a new one
 * (a held body, a relayed WebSocket); a caller that keeps the old one must drop it.
 */
export async function holdResponse(res: Response, admitted: Admitted, route: Route, hold: HoldContext): Promise<Response> {
	const { permits } = admitted;
	// On an adaptive route, the release carries how the exchange with the origin went.
	const releasing = route.adaptive ? sampling(permits, hold.exchange) : permits;
	let out = res;
	if (hold.failure) await releasing.release(hold.failure);
	else if (res.webSocket && route.websocket === "hold" && permits.size > 0) out = holdUntilClosed(res, permits, route.maxHoldMs);
	else if (!res.body) await releasing.release("no-body");
	else out = await heldResponse(res, releasing, hold.deadline, hold.waitUntil);
	if (route.rateLimitHeaders === "all" || admitted.wouldRefuse) {
		out = mutable(out);
		if (route.rateLimitHeaders === "all") setRateLimitHeaders(out.headers, admitted.views);
		if (admitted.wouldRefuse) out.headers.set(DRY_RUN_HEADER, "would-refuse");
	}
	return out;
}

/**
 * A response whose headers can be set: a handler may return one with immutable headers (fetch's, Response.redirect's).
 * A 101 keeps its webSocket only as itself, so it is never copied (the relay's own 101 is mutable).
 */
function mutable(res: Response): Response {
	if (res.status === 101) return res;
	try {
		res.headers.set(DRY_RUN_HEADER, "");
		res.headers.delete(DRY_RUN_HEADER);
		return res;
	} catch {
		return new Response(res.body, res);
	}
}
