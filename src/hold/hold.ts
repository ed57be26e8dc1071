// Holds a permit until the response body has been completely delivered, and gives it back on every other ending.
import type { Releasable, ReleaseReason } from "../isolate/permit-types.ts";

/**
 * How much of a body the gate reads ahead of the client. A response that fits is read to its end as
 * fast as the origin sends it, so its permit comes back when the origin is done even if the client
 * stalls or vanishes without the runtime cancelling the body (workerd #6832). Larger bodies move at
 * the client's pace, with this much buffered.
 */
export const READ_AHEAD_BYTES = 64 * 1024;

/** Why an exchange's signal aborted: the client went away, or the route's deadline passed. */
export function abortReason(signal: AbortSignal): ReleaseReason {
	return signal.reason instanceof DOMException && signal.reason.name === "TimeoutError" ? "origin-timeout" : "client-disconnected";
}

/**
 * The body's length in bytes as the client will count them: Content-Length, unless a Content-Encoding
 * means the runtime may decode the body and re-encode it on the way out. Null when unknown.
 */
export function deliveredLength(headers: Headers): number | null {
	const encoding = headers.get("content-encoding");
	if (encoding !== null && encoding.toLowerCase() !== "identity") return null;
	const length = headers.get("content-length");
	return length !== null && /^\d+$/.test(length) ? Number(length) : null;
}

export interface HeldBody {
	readonly body: ReadableStream<Uint8Array>;
	/** Settles when the origin body has been read to its end, or failed, or was cut off. Hand it to waitUntil. */
	readonly done: Promise<void>;
}

/**
 * Pipes an origin body to the client, releasing the permit once, on whichever comes first:
 * - the body is completely handed on: before its last chunk when the length is known (a client stops
 *   reading at Content-Length), before the close otherwise; so a client that sends its next request at
 *   once finds the permit free, as with the seed's Go gauge;
 * - the client cancels; the origin's body fails; `signal` aborts (deadline or client disconnect).
 * A body cut off by the signal ends in an error, never in a clean but truncated close.
 */
export function holdUntilDelivered(
	body: ReadableStream<Uint8Array>,
	permit: Releasable,
	signal: AbortSignal,
	length: number | null = null,
): HeldBody {
	let remaining = length;
	let clientCancelled = false;
	const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(
		{
			start(controller) {
				// Cutting the stream here, rather than through pipeTo's signal, errors both sides at once.
				const cut = (): void => controller.error(signal.reason);
				if (signal.aborted) cut();
				else signal.addEventListener("abort", cut, { once: true });
			},
			async transform(chunk, controller) {
				if (remaining !== null) {
					remaining -= chunk.byteLength;
					if (remaining <= 0) await permit.release("delivered");
				}
				controller.enqueue(chunk);
			},
			async flush() {
				await permit.release("delivered");
			},
			cancel() {
				clientCancelled = true;
			},
		},
		undefined,
		new ByteLengthQueuingStrategy({ highWaterMark: READ_AHEAD_BYTES }),
	);
	// Whichever side fails first, the pipe errors or cancels the other. However the pipe ends, the origin
	// body is finished with, so the permit goes back (a no-op when flush already gave it back). workerd
	// ends the pipe without an error when the client cancels, so both branches release.
	const done = body.pipeTo(writable).then(
		() => permit.release("client-cancelled"),
		() => permit.release(signal.aborted ? abortReason(signal) : clientCancelled ? "client-cancelled" : "origin-error"),
	);
	return { body: readable, done };
}
