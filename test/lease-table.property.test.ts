import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, it } from "vitest";
import { MemoryLeaseStore, SqlLeaseStore } from "../src/object/lease-store.ts";
import { LeaseTable } from "../src/object/lease-table.ts";
import { runScenario, scenario } from "./helpers/interleavings.ts";

describe("lease table invariants under random interleavings (fast-check)", () => {
	it("in memory: never above the limit, and every permit comes back", () => {
		fc.assert(
			fc.property(scenario, ({ limit, ops }) => {
				const store = new MemoryLeaseStore();
				runScenario(limit, ops, () => new LeaseTable(store));
			}),
			{ numRuns: 500 },
		);
	});

	it("in the Durable Object's SQLite: the same, with restarts that keep only storage", async () => {
		const stub = env.GAUGE.getByName("property-sql");
		await runInDurableObject(stub, (_instance, state) => {
			fc.assert(
				fc.property(scenario, ({ limit, ops }) => {
					state.storage.sql.exec("DROP TABLE IF EXISTS leases");
					runScenario(limit, ops, () => new LeaseTable(new SqlLeaseStore(state.storage.sql)));
				}),
				{ numRuns: 150 },
			);
		});
	});
});
