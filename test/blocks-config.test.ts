import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConfigVars } from "../src/config/parse.ts";
import { parseConfig } from "../src/config/parse.ts";
import { keyShare, routeGauges } from "../src/core/partition.ts";
import { reportRoutes } from "../src/gate/admin/report.ts";
import { blockSettings } from "../src/isolate/block-settings.ts";
import type { Gauge } from "../src/object/durable-object.ts";

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
				'LIMITS.routes[0] ("api").blocks: got "on", expected "off" or a table (blocks = { max, returnAfterMs })',
				expect.stringMatching(/^LIMITS\.routes\[0\] \("api"\)\.locationHint: got "mars", expected one of "wnam", "enam", .*"me"$/),
				'LIMITS.routes[1] ("b").blocks.max: got 0, expected an integer >= 1',
				expect.stringMatching(/^LIMITS\.routes\[1\] \("b"\)\.blocks\.size: unknown setting/),
			]),
		);
	});

	it("bounds returnAfterMs: a frozen isolate parks its block for the admission window (2 × returnAfterMs) + maxHoldMs", () => {
		const result = parse({ LIMITS: { routes: [route({ blocks: { returnAfterMs: 3_600_000 } })] } });
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.errors).toEqual([
			expect.stringMatching(
				/^LIMITS\.routes\[0\] \("api"\)\.blocks\.returnAfterMs: got 3600000, expected a whole number of milliseconds from 1 to 10000/,
			),
		]);
		expect(parse({ LIMITS: { routes: [route({ blocks: { returnAfterMs: 10_000 } })] } }).ok).toBe(true);
	});

	it("every object a hinted route touches is created with its hint: route shards, key shares, admin reads", async () => {
		const result = parse({
			LIMITS: { routes: [route({ locationHint: "weur", shards: 2, perKey: { by: "header:x-user", limit: 5 } })] },
		});
		if (!result.ok) throw new Error(result.errors.join("\n"));
		const [api] = result.config.routes;
		if (!api) throw new Error("route missing");
		expect(routeGauges(api).map((g) => g.locationHint)).toEqual(["weur", "weur"]);
		// The admin surface reads every shard's status: through a namespace that records how each stub was asked for.
		const asked: { name: string; hint: string | undefined }[] = [];
		const ns = {
			getByName(name: string, options?: { locationHint?: string }) {
				asked.push({ name, hint: options?.locationHint });
				return env.GAUGE.getByName(`hint-${crypto.randomUUID()}`);
			},
		} as unknown as DurableObjectNamespace<Gauge>;
		await reportRoutes(ns, [api]);
		expect(asked.length).toBeGreaterThanOrEqual(2);
		expect(asked.every((a) => a.hint === "weur")).toBe(true);
		// A key's share object too (built per request from the route).
		if (!api.perKey) throw new Error("perKey missing");
		expect((await keyShare(api, api.perKey, "user-1")).locationHint).toBe("weur");
	});
});
