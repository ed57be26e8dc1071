// The cheap way to hold a permit until a small response body is handed on: read it whole with the runtime's own
// (native) code, no JavaScript stream. A JavaScript TransformStream (holdUntilDelivered) costs the gate a fifth to a
// quarter of a bare proxy's throughput on the local runtime (bench/perf); it stays for every other body.
//
// Tried and dropped: a native IdentityTransformStream piped with pipeTo for bodies of unknown length. Its writes
// wait for a reader whatever its highWaterMark (workerd, seen in test), so a client that never reads (one the
// runtime did not report gone, workerd #6832) would keep a small body's permit: holdUntilDelivered reads ahead.
import type { Releasable } from "../isolate/permit-types.ts";
import { abortReason, deliveredLength, holdUntilDelivered, READ_AHEAD_BYTES } from "./hold.ts";

/** Hands `promise` to ExecutionContext.waitUntil: the permit's release must outlive the response. */
type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * The client's response for an origin response that has a body, releasing `permit` once whichever way the body
 * ends, and never after the client has seen the body's end:
 * - a body of known length that fits in READ_AHEAD_BYTES is read whole (holdUntilRead);
 * - any other (larger, of unknown length, or encoded so its delivered length is unknown) streams through
 *   holdUntilDelivered. A body of unknown length cannot be read whole: it may be a stream of events.
 */
export async function heldResponse(res: Response, permit: Releasable, signal: AbortSignal, waitUntil: WaitUntil): Promise<Response> {
	const body = res.body;
	if (!body) throw new TypeError("heldResponse needs a response with a body");
	const length = deliveredLength(res.headers);
	if (length !== null && length <= READ_AHEAD_BYTES) {
		// In waitUntil too: a client that leaves mid-read cancels the request's own tasks, not its waitUntil, so the
		// read still ends (the signal fires) and the permit goes back.
		const read = holdUntilRead(res, permit, signal);
		waitUntil(read);
		return read;
	}
	const held = holdUntilDelivered(body, permit, signal, length);
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
		const bytes = await readBefore(res, signal);
		await permit.release("delivered");
		return new Response(bytes, res);
	} catch (error) {
		await permit.release(signal.aborted ? abortReason(signal) : "origin-error");
		return new Response(new ReadableStream({ start: (controller) => controller.error(error) }), res);
	}
}

/**
 * The whole body, or a rejection when `signal` aborts first. The gate's origin body is tied to the signal already
 * (its fetch aborts), but a handler's body (the library's faces) is not: one that stalls must not hold its permit
 * past the deadline. The read itself cannot be cancelled once started (arrayBuffer locks the stream); the handler's
 * stream goes on, as the handler does, but the permit is back and the client's body errors.
 */
function readBefore(res: Response, signal: AbortSignal): Promise<ArrayBuffer> {
	if (signal.aborted) return Promise.reject(signal.reason);
	return new Promise<ArrayBuffer>((resolve, reject) => {
		const onAbort = (): void => reject(signal.reason);
		signal.addEventListener("abort", onAbort, { once: true });
		res
			.arrayBuffer()
			.then(resolve, reject)
			.finally(() => signal.removeEventListener("abort", onAbort));
	});
}
