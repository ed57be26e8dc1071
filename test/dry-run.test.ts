import { describe, expect, it } from "vitest";
import { DRY_RUN_HEADER } from "../src/gate/hold-permit.ts";
import { gate } from "./helpers/gate.ts";

describe("dry-run", () => {
	it("admits everything, marks and counts what would have been refused", async () => {
		const g = gate({ routes: [{ name: "d", path: "/*", limit: 1, dryRun: true }] });
		const results = await Promise.all(Array.from({ length: 5 }, () => g.fetch("/request?delay=100")));
		expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
		expect(results.filter((r) => r.headers.get(DRY_RUN_HEADER) === "would-refuse")).toHaveLength(4);
		await Promise.all(results.map((r) => r.text()));
		expect((await g.origin()).total).toBe(5);
		const { counters, inFlight } = await g.status("d");
		expect(counters).toMatchObject({ admitted: 1, refused: 0, dryRunRefused: 4 });
		expect(inFlight).toBe(0);
	});

	it("applies to per-key limits too", async () => {
		const g = gate({ routes: [{ name: "d", path: "/*", limit: 10, dryRun: true, perKey: { limit: 1, by: "header:x-user" } }] });
		const results = await Promise.all(Array.from({ length: 3 }, () => g.fetch("/request?delay=100", { headers: { "x-user": "u" } })));
		expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
		expect(results.filter((r) => r.headers.get(DRY_RUN_HEADER))).toHaveLength(2);
		await Promise.all(results.map((r) => r.text()));
	});
});
