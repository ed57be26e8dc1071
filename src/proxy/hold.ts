// Holds a permit until the response body is completely delivered, and gives it back on every other ending.
import type { Permit, ReleaseReason } from "../gauge/permit.ts";

/** Why an exchange's signal aborted: the client went away, or the route's deadline passed. */
export function abortReason(signal: AbortSignal): ReleaseReason {
	return signal.reason instanceof DOMException && signal.reason.name === "TimeoutError" ? "origin-timeout" : "client-disconnected";
}

/**
 * Wraps an origin body so the permit is released when the last chunk has been handed on (before the
 * stream closes, so a client that sends its next request at once finds the permit free), when the
 * client cancels, when the origin's stream fails, or when `signal` aborts (deadline or disconnect).
 * A body cut off by the signal ends in an error, never in a clean but truncated close.
 */
export function holdUntilDelivered(body: ReadableStream<Uint8Array>, permit: Permit, signal: AbortSignal): ReadableStream<Uint8Array> {
	const reader = body.getReader();
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
