// an adaptive route's learned limit must go through the layout record's shares in force, like any
// limit, so a rollout between a fixed config and an adaptive one never passes either config's limit.
import { describe, expect, it } from "vitest";
import type { Gate } from "./helpers/gate.ts";
import { gate } from "./helpers/gate.ts";

async function burst(g: Gate, n: number, path = "/request?delay=300"): Promise<number> {
	const results = await Promise.all(Array.from({ length: n }, () => g.fetch(path)));
	await Promise.all(results.map((r) => r.arrayBuffer()));
	return results.filter((r) => r.status === 200).length;
}

describe("fixed -> adaptive rollout", () => {
	it("the adaptive isolate does not admit past the old config's limit of 2 while both run", async () => {
		const old = gate({ routes: [{ name: "ad", path: "/*", limit: 2 }] });
		const next = gate({ routes: [{ name: "ad", path: "/*", adaptive: { min: 3, max: 10 } }] }, {}, { sameObjectsAs: old });
		expect(await burst(old, 1, "/request?delay=0")).toBe(1); // the record now knows layout 2/1
		// Shares in force are min(2, 10) = 2; the learned limit (at min = 3 while it measures) must not override them.
		expect(await burst(next, 6)).toBeLessThanOrEqual(2);
		expect((await old.origin()).peak).toBeLessThanOrEqual(2);
	});
});
