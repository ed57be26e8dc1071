// Tried and dropped (see src/hold/hold-native.ts): a native IdentityTransformStream pipe. Bench only.

import type { HeldBody } from "../../src/hold/hold.ts";
import { abortReason, READ_AHEAD_BYTES } from "../../src/hold/hold.ts";
import type { Releasable } from "../../src/isolate/permit-types.ts";

/**
 * Pipes a body of unknown length (the client waits for the end of the stream) through a native
 * IdentityTransformStream, releasing the permit once, on whichever comes first:
 * - the origin body ended: the permit goes back, and only then is the client's stream closed, so a client that
 *   sends its next request the moment this one ends finds the permit free;
 * - the client cancels or goes away; the origin's body fails; `signal` aborts (deadline or client disconnect):
 *   the client's stream then ends in an error, never in a clean but truncated close.
 * Up to READ_AHEAD_BYTES are read ahead of the client, as in holdUntilDelivered.
 */
export function holdUntilEnded(body: ReadableStream<Uint8Array>, permit: Releasable, signal: AbortSignal): HeldBody {
	const { readable, writable } = new IdentityTransformStream({ highWaterMark: READ_AHEAD_BYTES });
	// The pipe leaves both ends open whatever happens, so that this code, knowing which side failed, ends each.
	const done = body.pipeTo(writable, { preventClose: true, preventAbort: true, preventCancel: true, signal }).then(
		async () => {
			await permit.release("delivered");
			await writable.close().catch(() => undefined);
		},
		async (error: unknown) => {
			// A writable that can no longer take a chunk is the client's end gone; otherwise the origin's body
			// failed or the signal aborted the pipe.
			const writer = writable.getWriter();
			const clientGone = writer.desiredSize === null;
			await permit.release(signal.aborted ? abortReason(signal) : clientGone ? "client-cancelled" : "origin-error");
			await Promise.allSettled([writer.abort(error), body.cancel(error)]);
		},
	);
	return { body: readable as ReadableStream<Uint8Array>, done };
}
