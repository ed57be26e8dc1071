// Handler: forward the request to the origin; an origin failure is an answer (502/504), not an exception.
import type { Context } from "hono";
import { abortReason } from "../hold/hold.ts";
import { handshakeSignal, isWebSocketUpgrade } from "../hold/websocket.ts";
import { logSampled } from "../log.ts";
import { badGateway } from "../responses/refusal.ts";
import { downstreamResponse, upstreamRequest } from "./forward.ts";
import type { GateEnv } from "./types.ts";

export async function proxy(c: Context<GateEnv>): Promise<Response> {
	const deadline = c.var.deadline;
	// An upgrade's deadline covers its handshake only: once open, the socket is held until it closes.
	const handshake = isWebSocketUpgrade(c.req.raw) ? handshakeSignal(deadline) : null;
	const startedAt = Date.now();
	try {
		const response = await fetch(upstreamRequest(c.req.raw, c.var.config.origin, handshake?.signal ?? deadline, c.var.path));
		handshake?.detach();
		c.set("exchange", { startedAt, rttMs: Date.now() - startedAt, status: response.status });
		return downstreamResponse(response);
	} catch (error) {
		c.set("exchange", { startedAt, rttMs: Date.now() - startedAt, status: null });
		const reason = deadline.aborted ? abortReason(deadline) : "origin-error";
		c.set("upstreamFailure", reason);
		logSampled("origin_error", c.var.route?.name ?? "(ungated)", { route: c.var.route?.name ?? null, reason, error: String(error) });
		return badGateway(reason === "origin-timeout", c.req.header("accept") ?? null);
	}
}
