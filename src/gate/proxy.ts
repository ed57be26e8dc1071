// Handler: forward the request to the origin; an origin failure is an answer (502/504), not an exception.
import type { Context } from "hono";
import { logSampled } from "../log.ts";
import { downstreamResponse, upstreamRequest } from "../proxy/forward.ts";
import { abortReason } from "../proxy/hold.ts";
import { badGateway } from "../responses/refusal.ts";
import type { GateEnv } from "./types.ts";

export async function proxy(c: Context<GateEnv>): Promise<Response> {
	const deadline = c.var.deadline;
	const startedAt = Date.now();
	try {
		const response = await fetch(upstreamRequest(c.req.raw, c.var.config.origin, deadline));
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
