// Priority classes in the library: a class may come from a function of the Hono context (issue 21).
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { gauge } from "../../src/hono.ts";
import { drive, uniqueName } from "../helpers/library.ts";

describe("gauge() classes", () => {
	it("Should take a class from a function of the context and hold the class below to its cap", async () => {
		let release = (): void => undefined;
		const held = new Promise<void>((resolve) => {
			release = resolve;
		});
		const app = new Hono();
		const classes = [
			{ name: "paid", headroom: 0, match: (c: { req: { query(name: string): string | undefined } }) => c.req.query("plan") === "paid" },
			{ name: "free", headroom: 0.5 },
		];
		app.get("/x", gauge({ name: uniqueName("classes"), limit: 2, classes }), async (c) => {
			await held;
			return c.text("ok");
		});
		const worker = drive((request, env, ctx) => app.fetch(request, env, ctx));
		const free = worker.fetch("/x?plan=free");
		await scheduler.wait(50);
		// "free" may hold floor(2 × 0.5) = 1: the other permit is kept for "paid".
		const again = await worker.fetch("/x?plan=free", { headers: { accept: "application/json" } });
		expect(again.status).toBe(429);
		expect(await again.json()).toMatchObject({ scope: "class" });
		const paid = worker.fetch("/x?plan=paid");
		await scheduler.wait(50);
		release();
		expect((await free).status).toBe(200);
		expect((await paid).status).toBe(200);
		await worker.settle();
	});

	it("Should refuse a header match without trusted when built, naming the option", () => {
		expect(() =>
			gauge({ name: "x", limit: 2, classes: [{ name: "vip", headroom: 0, match: { header: { name: "x-vip", value: "1" } } }] }),
		).toThrow(/options\.classes\[0\]\.match\.header: .*expected trusted = true/);
	});
});
