import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runSim, simScenario } from "./helpers/block-sim.ts";

describe("blocks leased to isolates, under random demand, deaths, limit changes and clock moves (fast-check)", () => {
	it("every request at the origin is covered by a live lease; never above the limit; dead isolates' blocks expire; blocks stay within max", () => {
		let admitted = 0;
		fc.assert(
			fc.property(simScenario, ({ limit, ops }) => {
				admitted += runSim(limit, ops).admitted;
			}),
			{ numRuns: 3000 },
		);
		// The property must have exercised admissions, or it proved nothing.
		expect(admitted).toBeGreaterThan(0);
	}, 60_000);
});
