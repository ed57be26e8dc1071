// The Hono middleware gives a permit back exactly when the exchange is over, whichever way it ends.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { gauge } from "../../src/hono.ts";
import { drive, gaugeStatus, uniqueName } from "../helpers/library.ts";

/** An app with one gated route whose handler is `handler`; cut exchanges release at once (no cutRelease grace). */
function gated(handler: (c: import("hono").Context) => Response | Promise<Response>, extra: { handlerTimeoutMs?: number } = {}) {
	const name = uniqueName("hono-release");
	const app = new Hono();
	app.all("/x", gauge({ name, limit: 2, cutRelease: "immediate", ...extra }), handler);
	return { name, worker: drive((request, env, ctx) => app.fetch(request, env, ctx)) };
}

const inFlight = async (name: string): Promise<number> => (await gaugeStatus(name)).inFlight;

describe("the middleware holds a permit until the response is over", () => {
	it("a body delivered: held until read, released after", async () => {
		const { name, worker } = gated((c) => c.text("x".repeat(100_000)));
		const res = await worker.fetch("/x");
		expect(await inFlight(name)).toBe(1);
		expect((await res.text()).length).toBe(100_000);
		await worker.settle();
		expect(await inFlight(name)).toBe(0);
	});

	it("a streamed body: held while it streams, released at its end", async () => {
		let finish = (): void => undefined;
		const { name, worker } = gated(
			() =>
				new Response(
					new ReadableStream({
						start(controller) {
							controller.enqueue(new TextEncoder().encode("first "));
							finish = () => {
								controller.enqueue(new TextEncoder().encode("last"));
								controller.close();
							};
						},
					}),
				),
		);
		const res = await worker.fetch("/x");
		const reader = res.body!.getReader();
		await reader.read();
		expect(await inFlight(name)).toBe(1);
		finish();
		while (!(await reader.read()).done);
		await worker.settle();
		expect(await inFlight(name)).toBe(0);
	});

	it("a body cancelled by the client: released", async () => {
		const { name, worker } = gated(() => new Response(new ReadableStream({ pull: () => scheduler.wait(10) })));
		const res = await worker.fetch("/x");
		expect(await inFlight(name)).toBe(1);
		await res.body!.cancel();
		await worker.settle();
		expect(await inFlight(name)).toBe(0);
	});

	it("a handler that throws: 500, released", async () => {
		const { name, worker } = gated(() => {
			throw new Error("boom");
		});
		const res = await worker.fetch("/x");
		expect(res.status).toBe(500);
		await worker.settle();
		expect(await inFlight(name)).toBe(0);
	});

	it.each([
		["HEAD", 200],
		["GET", 204],
		["GET", 304],
	])("no body (%s, %i): released before the response is returned", async (method, status) => {
		const { name, worker } = gated((c) => c.body(null, status as 200));
		const res = await worker.fetch("/x", { method });
		expect(res.status).toBe(status);
		expect(await inFlight(name)).toBe(0);
	});

	it("HEAD on a handler with a large streamed body: released at once (Hono drops the body without cancelling it)", async () => {
		const chunk = new Uint8Array(64 * 1024);
		const { name, worker } = gated(
			() =>
				new Response(
					new ReadableStream({
						async pull(controller) {
							await scheduler.wait(1);
							controller.enqueue(chunk);
						},
					}),
				),
		);
		const res = await worker.fetch("/x", { method: "HEAD" });
		expect(res.status).toBe(200);
		expect(res.body).toBeNull();
		await worker.settle();
		expect(await inFlight(name)).toBe(0);
	});

	it("a small body of known length that stalls: cut at the handler's deadline, released then", async () => {
		const { name, worker } = gated(
			() =>
				new Response(
					new ReadableStream({
						start(controller) {
							// Half of what Content-Length promises, then nothing for far longer than the deadline.
							controller.enqueue(new TextEncoder().encode("hello"));
						},
					}),
					{ headers: { "content-length": "10" } },
				),
			{ handlerTimeoutMs: 100 },
		);
		const answered = worker.fetch("/x");
		const outcome = await Promise.race([answered.then(() => "answered"), scheduler.wait(1_000).then(() => "still reading")]);
		expect(outcome).toBe("answered");
		// The client sees a body that errors, never a clean short one.
		await expect((await answered).text()).rejects.toThrow();
		expect(await inFlight(name)).toBe(0);
	});

	it("the handler's deadline: 504 and released, while the handler still runs", async () => {
		let running = false;
		const { name, worker } = gated(
			async (c) => {
				running = true;
				await scheduler.wait(1_500);
				running = false;
				return c.text("late");
			},
			{ handlerTimeoutMs: 100 },
		);
		const res = await worker.fetch("/x");
		expect(res.status).toBe(504);
		expect(running).toBe(true);
		expect(await inFlight(name)).toBe(0);
	});
});
