import { describe, expect, it } from "vitest";
import { ActiveKeys } from "../src/object/active-keys.ts";

describe("ActiveKeys: who is active on a fair route, in bounded memory", () => {
	it("Should keep a key's peak want for one to two windows after it last asked, then forget it", () => {
		const keys = new ActiveKeys(1_000, 10);
		keys.asked("a", 3, 0);
		keys.asked("a", 1, 500);
		expect(keys.demand(900).get("a")).toBe(3);
		// The next window still remembers the peak of the one before.
		expect(keys.demand(1_500).get("a")).toBe(3);
		expect(keys.demand(2_000).has("a")).toBe(false);
		expect(keys.size).toBe(0);
	});

	it("Should let a lower want replace an old peak once the peak's window has passed", () => {
		const keys = new ActiveKeys(1_000, 10);
		keys.asked("a", 20, 0);
		keys.asked("a", 2, 1_100);
		keys.asked("a", 2, 2_100);
		expect(keys.demand(2_200).get("a")).toBe(2);
	});

	it("Should track at most maxKeys keys, forgetting the one seen longest ago", () => {
		const keys = new ActiveKeys(1_000, 3);
		for (const [i, key] of ["a", "b", "c", "d"].entries()) keys.asked(key, 1, i);
		keys.asked("b", 1, 10);
		keys.asked("e", 1, 11);
		expect([...keys.demand(12).keys()].sort()).toEqual(["b", "d", "e"]);
		expect(keys.size).toBe(3);
	});

	it("Should count as contended while anyone waits or for one window after a refusal", () => {
		const keys = new ActiveKeys(1_000, 3);
		expect(keys.contended(0, 0)).toBe(false);
		expect(keys.contended(0, 1)).toBe(true);
		keys.refused(100);
		expect(keys.contended(1_099, 0)).toBe(true);
		expect(keys.contended(1_100, 0)).toBe(false);
	});
});
