// Client requests for the tests, the demo and the benchmark: each one has a deadline that covers the whole
// exchange, body included, and ends in an outcome, never a hang.
//
// The deadline is not left to fetch alone. Node 22's fetch (undici 6) can leave a body read pending forever
// when its signal aborts just after the body has arrived but before the body stream is closed
// (nodejs/undici#4089, nodejs/node#56917; `node dev/fetch-abort-hang.ts` reproduces it). So every wait
// here races the signals themselves, and a request is over when its deadline passes, whatever fetch does.
// Plain web APIs only: the in-workerd test helpers use this file too.

/** Where an exchange was when it ended without an answer. */
export type Stage = "headers" | "body";

/** How one exchange ended. Tests count these by kind; only `answered` carries a status. */
export type Outcome<T> =
	| { readonly kind: "answered"; readonly status: number; readonly value: T; readonly ms: number }
	/** The request's own deadline passed (`timeoutMs`, or `until`). */
	| { readonly kind: "client-timeout"; readonly stage: Stage; readonly ms: number }
	/** The caller's own signal fired (a client that gives up on purpose). */
	| { readonly kind: "aborted"; readonly stage: Stage; readonly ms: number }
	/** fetch or the body read failed: a reset connection, a refused one, a body cut short. */
	| { readonly kind: "network-error"; readonly stage: Stage; readonly ms: number; readonly error: string };

export type OutcomeKind = Outcome<unknown>["kind"];

export interface ExchangeOptions extends RequestInit {
	/** The exchange's deadline in ms, from the call to the end of the body. */
	readonly timeoutMs: number;
	/** An absolute deadline (epoch ms) that also applies, e.g. a whole run's budget. Default: none. */
	readonly until?: number;
}

/** What an exchange makes of an answer: reads (or abandons) the body and returns a value. */
export type ReadBody<T> = (res: Response, signal: AbortSignal) => Promise<T>;

/** Reads the whole body and drops it. */
export const drain: ReadBody<number> = async (res) => (await res.arrayBuffer()).byteLength;

/** Sends a request and reads its answer with `read`, within the deadline. Never rejects. */
export async function exchange<T>(url: string, options: ExchangeOptions, read: ReadBody<T>): Promise<Outcome<T>> {
	const { timeoutMs, until, signal: own, ...init } = options;
	const started = performance.now();
	const ms = (): number => performance.now() - started;
	const budget = Math.max(0, Math.min(timeoutMs, until === undefined ? timeoutMs : until - Date.now()));
	const deadline = AbortSignal.timeout(budget);
	const signal = own ? AbortSignal.any([deadline, own]) : deadline;
	let stage: Stage = "headers";
	let response: Response | undefined;
	const stopped = whenAborted(signal);
	const work = (async () => {
		response = await fetch(url, { ...init, signal });
		stage = "body";
		return { status: response.status, value: await read(response, signal) };
	})();
	// The race may end on the signal while fetch is still pending; its later rejection is expected.
	work.catch(() => undefined);
	try {
		const done = await Promise.race([work, stopped.promise]);
		if (done !== STOPPED) return { kind: "answered", status: done.status, value: done.value, ms: ms() };
	} catch (error) {
		if (!signal.aborted) return { kind: "network-error", stage, ms: ms(), error: describeError(error) };
	} finally {
		stopped.dispose();
	}
	// Free the connection if fetch kept it (a locked body refuses to cancel; its reader holds it then).
	response?.body?.cancel().catch(() => undefined);
	return signal.reason === deadline.reason ? { kind: "client-timeout", stage, ms: ms() } : { kind: "aborted", stage, ms: ms() };
}

/**
 * A request that must be answered (a status read, a warm-up): the answer's status and body text, or an
 * error that names the request, how it ended and after how long.
 */
export async function request(url: string, options: ExchangeOptions): Promise<{ status: number; text: string }> {
	const outcome = await exchange(url, options, (res) => res.text());
	if (outcome.kind !== "answered") throw new Error(`${options.method ?? "GET"} ${url}: ${describeOutcome(outcome)}`);
	return { status: outcome.status, text: outcome.value };
}

/**
 * The same response, with a body whose reads end at `signal`: a read still pending then fails with
 * `reason()` and the original body is cancelled. For callers that read bodies themselves.
 */
export function boundBody(res: Response, signal: AbortSignal, reason: () => Error): Response {
	// 101 (a WebSocket upgrade) has no body to bound, and a Response cannot be built with it.
	if (res.body === null || res.status === 101) return res;
	const reader = res.body.getReader();
	const body = new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				const stopped = whenAborted(signal);
				try {
					const next = await Promise.race([reader.read(), stopped.promise]);
					if (next === STOPPED) {
						reader.cancel(signal.reason).catch(() => undefined);
						controller.error(reason());
					} else if (next.done) controller.close();
					else controller.enqueue(next.value);
				} finally {
					stopped.dispose();
				}
			},
			cancel: (why) => reader.cancel(why),
		},
		// Pull only when the caller reads: an unread body is left alone, as it would be without the bound.
		{ highWaterMark: 0 },
	);
	return new Response(body, res);
}

/** One line for a report or a failure message, e.g. "client-timeout after 10.0 s waiting for the body". */
export function describeOutcome(outcome: Outcome<unknown>): string {
	const after = `after ${(outcome.ms / 1000).toFixed(1)} s`;
	switch (outcome.kind) {
		case "answered":
			return `answered ${outcome.status} ${after}`;
		case "network-error":
			return `network error ${after} waiting for the ${outcome.stage}: ${outcome.error}`;
		default:
			return `${outcome.kind} ${after} waiting for the ${outcome.stage}`;
	}
}

/** The label an outcome is counted under: the status when answered, else its kind. */
export function outcomeLabel(outcome: Outcome<unknown>): string {
	return outcome.kind === "answered" ? String(outcome.status) : outcome.kind;
}

const STOPPED = Symbol("stopped");

function whenAborted(signal: AbortSignal): { promise: Promise<typeof STOPPED>; dispose(): void } {
	let onAbort = (): void => undefined;
	const promise = new Promise<typeof STOPPED>((resolve) => {
		onAbort = () => resolve(STOPPED);
		if (signal.aborted) resolve(STOPPED);
		else signal.addEventListener("abort", onAbort, { once: true });
	});
	return { promise, dispose: () => signal.removeEventListener("abort", onAbort) };
}

function describeError(error: unknown): string {
	if (!(error instanceof Error)) return String(error);
	const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
	return `${error.name}: ${error.message}${cause}`;
}
