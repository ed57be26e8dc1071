// The Worker's side of the adaptive limit: what one exchange with the origin looked like, sent with its release
// (no call of its own).
import type { ExchangeSample } from "../adaptive/sample.ts";
import { outcomeOf } from "../adaptive/sample.ts";
import type { PermitGroup } from "./permit.ts";
import type { Releasable, ReleaseReason } from "./permit-types.ts";

/** What the proxy saw: when it asked the origin, how long the headers took, and the status (null: no answer). */
export interface Exchange {
	readonly startedAt: number;
	readonly rttMs: number;
	readonly status: number | null;
}

/** The sample a release with `reason` carries, or null when the exchange says nothing about the origin's load. */
export function sampleOf(reason: ReleaseReason, exchange: Exchange | undefined, now: number): ExchangeSample | null {
	if (!exchange) return null;
	const timing = { rttMs: exchange.rttMs, ageMs: Math.max(exchange.rttMs, now - exchange.startedAt) };
	switch (reason) {
		case "origin-timeout":
			return { outcome: "timeout", ...timing };
		case "origin-error":
			return { outcome: "reset", ...timing };
		case "worker-error":
		case "refused-elsewhere":
			return null;
		default:
			// Delivered, or the client went away: the answer's status says how the origin did (none: it never answered
			// before the client left, which is no measure of the origin).
			return exchange.status === null ? null : { outcome: outcomeOf(exchange.status), ...timing };
	}
}

/** The request's permits, released with the exchange's sample whichever way the exchange ends. */
export function sampling(permits: PermitGroup, exchange: Exchange | undefined): Releasable {
	return {
		get reason() {
			return permits.reason;
		},
		release(reason) {
			return permits.release(reason, sampleOf(reason, exchange, Date.now()));
		},
	};
}
