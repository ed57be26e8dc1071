// Candidate: holdUntilDelivered as one pull-based JS ReadableStream (no TransformStream, no pipeTo). Bench only.

import type { HeldBody } from "../../src/hold/hold.ts";
import { abortReason, READ_AHEAD_BYTES } from "../../src/hold/hold.ts";
import type { Releasable, ReleaseReason } from "../../src/isolate/permit-types.ts";

export function holdUntilDeliveredPull(
	body: ReadableStream<Uint8Array>,
	permit: Releasable,
	signal: AbortSignal,
	length: number | null = null,
): HeldBody {
	const reader = body.getReader();
	let remaining = length;
	let settle: () => void = () => undefined;
	const done = new Promise<void>((resolve) => {
		settle = resolve;
	});
	let released = false;
	const finish = async (reason: ReleaseReason): Promise<void> => {
		if (released) return;
		released = true;
		await permit.release(reason);
		settle();
	};
	let cut: () => void = () => undefined;
	const readable = new ReadableStream<Uint8Array>(
		{
			start(controller) {
				cut = () => {
					controller.error(signal.reason);
					reader.cancel(signal.reason).catch(() => undefined);
					void finish(abortReason(signal));
				};
				if (signal.aborted) cut();
				else signal.addEventListener("abort", cut, { once: true });
			},
			async pull(controller) {
				let chunk: ReadableStreamReadResult<Uint8Array>;
				try {
					chunk = await reader.read();
				} catch (error) {
					if (!released) controller.error(error);
					await finish(signal.aborted ? abortReason(signal) : "origin-error");
					return;
				}
				if (chunk.done) {
					signal.removeEventListener("abort", cut);
					await finish("delivered");
					controller.close();
					return;
				}
				if (remaining !== null) {
					remaining -= chunk.value.byteLength;
					if (remaining <= 0) await finish("delivered");
				}
				controller.enqueue(chunk.value);
			},
			async cancel(reason) {
				signal.removeEventListener("abort", cut);
				await reader.cancel(reason).catch(() => undefined);
				await finish("client-cancelled");
			},
		},
		new ByteLengthQueuingStrategy({ highWaterMark: READ_AHEAD_BYTES }),
	);
	return { body: readable, done };
}
