// Holds a permit until the response body is completely delivered, and gives it back on every other ending.
import type { Permit, ReleaseReason } from "../gauge/permit.ts";

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

/**
 * Wraps an origin body so the permit is released when the body has been completely handed on, and
 * before the client can see that it has: before the last chunk when the length is known (the client
 * stops reading at Content-Length), before the close otherwise. So a client that sends its next request
 * at once finds the permit free, as with the seed's Go gauge. Also released when the client cancels,
 * when the origin's stream fails, or when `signal` aborts (deadline or disconnect). A body cut off by
 * the signal ends in an error, never in a clean but truncated close.
 */
export function holdUntilDelivered(
	body: ReadableStream<Uint8Array>,
	permit: Permit,
	signal: AbortSignal,
	length: number | null = null,
): ReadableStream<Uint8Array> {
	const reader = body.getReader();
	let remaining = length;
	const onAbort = (): void => {
		void permit.release(abortReason(signal));
		reader.cancel(signal.reason).catch(() => undefined);
	};
	if (signal.aborted) onAbort();
	else signal.addEventListener("abort", onAbort, { once: true });

	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				let chunk: ReadableStreamReadResult<Uint8Array>;
				try {
					chunk = await reader.read();
				} catch (error) {
					signal.removeEventListener("abort", onAbort);
					await permit.release(signal.aborted ? abortReason(signal) : "origin-error");
					controller.error(error);
					return;
				}
				if (signal.aborted) {
					controller.error(signal.reason);
					return;
				}
				if (chunk.done) {
					signal.removeEventListener("abort", onAbort);
					await permit.release("delivered");
					controller.close();
					return;
				}
				if (remaining !== null) {
					remaining -= chunk.value.byteLength;
					if (remaining <= 0) await permit.release("delivered");
				}
				controller.enqueue(chunk.value);
			},
			async cancel(reason) {
				signal.removeEventListener("abort", onAbort);
				await permit.release("client-cancelled");
				await reader.cancel(reason).catch(() => undefined);
			},
		},
		{ highWaterMark: 0 },
	);
}
