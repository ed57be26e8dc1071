// The cheap ways to hold a permit until a response body is handed on: the runtime's own (native) streams, so no
// JavaScript runs per chunk. A JavaScript TransformStream (holdUntilDelivered) costs the gate a fifth to a quarter of
// a bare proxy's throughput on the local runtime (bench/perf); it stays for the bodies these cannot serve.
import type { Releasable } from "../gauge/permit.ts";
import type { HeldBody } from "./hold.ts";
import { abortReason, deliveredLength, holdUntilDelivered, READ_AHEAD_BYTES } from "./hold.ts";

/** Hands `promise` to ExecutionContext.waitUntil: the permit's release must outlive the response. */
type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * The client's response for an origin response that has a body, releasing `permit` once whichever way the body
 * ends, and never after the client has seen the body's end:
 * - a body of known length that fits in READ_AHEAD_BYTES is read whole (holdUntilRead);
 * - a body of unknown length goes through a native pipe that is closed only after the release (holdUntilEnded);
 * - anything else (larger, or encoded so its delivered length is unknown) through holdUntilDelivered, as before.
 */
export async function heldResponse(res: Response, permit: Releasable, signal: AbortSignal, waitUntil: WaitUntil): Promise<Response> {
	const body = res.body;
	if (!body) throw new TypeError("heldResponse needs a response with a body");
	const length = deliveredLength(res.headers);
	if (length !== null && length <= READ_AHEAD_BYTES) return holdUntilRead(res, permit, signal);
	const encoding = res.headers.get("content-encoding");
	const held =
		!res.headers.has("content-length") && (encoding === null || encoding.toLowerCase() === "identity")
			? holdUntilEnded(body, permit, signal)
			: holdUntilDelivered(body, permit, signal, length);
	waitUntil(held.done);
	return new Response(held.body, res);
}

/**
 * A small body of known length, read whole before the client sees any of it (as holdUntilDelivered's read-ahead
 * does, without a stream per chunk): the permit goes back when the origin is done, before the client is answered.
 * A body that fails or is cut by `signal` reaches the client as a stream that errors, never as a clean short body.
 */
export async function holdUntilRead(res: Response, permit: Releasable, signal: AbortSignal): Promise<Response> {
	try {
		const bytes = await res.arrayBuffer();
		await permit.release("delivered");
		return new Response(bytes, res);
	} catch (error) {
		await permit.release(signal.aborted ? abortReason(signal) : "origin-error");
		return new Response(new ReadableStream({ start: (controller) => controller.error(error) }), res);
	}
}

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
