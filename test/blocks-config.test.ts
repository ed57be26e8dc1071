import { describe, expect, it } from "vitest";
import { blockSettings } from "../src/client/block-settings.ts";
import type { ConfigVars } from "../src/config/parse.ts";
import { parseConfig } from "../src/config/parse.ts";

const route = (extra: Record<string, unknown> = {}) => ({ name: "api", path: "/api/*", limit: 100, ...extra });
const parse = (vars: ConfigVars) => parseConfig(vars);

describe("blocks and locationHint settings", () => {
	it("blocks default to a tenth of the limit with returnAfterMs 100; off below 2 permits a block (limit < 20)", () => {
		const result = parse({ LIMITS: { routes: [route(), route({ name: "small", path: "/s", limit: 10 })] } });
		if (!result.ok) throw new Error(result.errors.join("\n"));
		const [big, small] = result.config.routes;
		if (!big || !small) throw new Error("routes missing");
		expect(big.blocks).toEqual({ max: null, returnAfterMs: 100 });
		expect(blockSettings(big, big.limit)).toMatchObject({ max: 10, returnAfterMs: 100 });
		expect(blockSettings(small, small.limit)).toBeNull();
	});

	it('accepts "off", a table with max and returnAfterMs, and every location hint', () => {
		const result = parse({
			LIMITS: {
				routes: [
					route({ blocks: "off", locationHint: "enam" }),
					route({ name: "b", path: "/b", blocks: { max: 50, returnAfterMs: 250 }, locationHint: "apac" }),
				],
			},
		});
		if (!result.ok) throw new Error(result.errors.join("\n"));
		const [off, on] = result.config.routes;
		expect(off?.blocks).toBeNull();
		expect(off?.locationHint).toBe("enam");
		expect(on?.blocks).toEqual({ max: 50, returnAfterMs: 250 });
		// A shard's block never holds more than the shard's own limit.
		if (on) expect(blockSettings(on, 20)?.max).toBe(20);
	});

	it("rejects bad values, naming the field, the value and what was expected", () => {
		const result = parse({
			LIMITS: {
				routes: [route({ blocks: "on", locationHint: "mars" }), route({ name: "b", path: "/b", blocks: { max: 0, size: 3 } })],
			},
		});
		if (result.ok) throw new Error("expected errors");
		expect(result.errors).toEqual(
			expect.arrayContaining([
				'LIMITS.routes[0].blocks: got "on", expected "off" or a table (blocks = { max, returnAfterMs })',
				expect.stringMatching(/^LIMITS\.routes\[0\]\.locationHint: got "mars", expected one of "wnam", "enam", .*"me"$/),
				"LIMITS.routes[1].blocks.max: got 0, expected an integer >= 1",
				expect.stringMatching(/^LIMITS\.routes\[1\]\.blocks\.size: unknown setting/),
			]),
		);
	});
});
