// An adaptive route advertises the limit in force, as every route does (issue 9, issue 14 item 7): the learned one,
// not its ceiling.
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

describe("adaptive route RateLimit quota", () => {
	it("quotes the learned limit in force as q (3 while it measures its baseline at min), not the ceiling", async () => {
		const g = gate({ routes: [{ name: "aq", path: "/*", adaptive: { min: 3, max: 10 } }] });
		const results = await Promise.all(Array.from({ length: 5 }, () => g.fetch("/request?delay=300")));
		await Promise.all(results.map((r) => r.arrayBuffer()));
		const refused = results.find((r) => r.status === 429);
		expect(refused).toBeDefined();
		expect(refused?.headers.get("ratelimit-policy")).toContain(";q=3;");
	});
});
