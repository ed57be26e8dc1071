// The example Worker as a client reaches it: the limits hold, and the refusals say when to retry.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const get = (path: string, init?: RequestInit): Promise<Response> => exports.default.fetch(new Request(`http://example.test${path}`, init));

async function statuses(responses: Promise<Response>[]): Promise<number[]> {
	return (await Promise.all(responses)).map((r) => r.status).sort();
}

describe("the example app", () => {
	it("/search: 10 at once, the 11th and 12th refused with Retry-After", async () => {
		const all = await Promise.all(Array.from({ length: 12 }, () => get("/search?ms=500")));
		expect(all.map((r) => r.status).sort()).toEqual([...Array(10).fill(200), 429, 429]);
		expect(all.find((r) => r.status === 429)?.headers.get("retry-after")).toMatch(/^\d+$/);
		// Every permit came back: the next one is admitted.
		expect((await get("/search?ms=0")).status).toBe(200);
	});

	it("/checkout: 2 at once per user (x-user-id), other users unaffected", async () => {
		const as = (user: string) => get("/checkout?ms=300", { method: "POST", headers: { "x-user-id": user } });
		expect(await statuses([as("ann"), as("ann"), as("ann"), as("bob")])).toEqual([200, 200, 200, 429]);
	});
});
