// The `adaptive` route setting: defaults, and every contradiction named with its field, value and expectation.
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../src/config/schema.ts";
import { errorsOf, valid } from "./helpers/config.ts";

const route = (extra: Record<string, unknown> = {}) => ({ name: "api", path: "/api/*", adaptive: { max: 50 }, ...extra });

describe("adaptive = { … }: valid configs", () => {
	it("fills in every default; the configured limit is the ceiling", () => {
		const [r] = valid({ LIMITS: { routes: [route()] } }).routes;
		const d = DEFAULTS.adaptive;
		expect(r?.limit).toBe(50);
		expect(r?.adaptive).toEqual({
			min: d.min,
			max: 50,
			initial: d.min,
			windowMs: d.windowMs,
			probeIntervalMs: d.probeIntervalMs,
			alpha: d.alpha,
			beta: d.beta,
			backoff: d.backoff,
		});
	});

	it("takes every setting, and leaves fixed routes without one", () => {
		const adaptive = { min: 2, max: 40, initial: 8, windowMs: 500, probeIntervalMs: 30_000, alpha: 3, beta: 6, backoff: 0.7 };
		const config = valid({
			LIMITS: { routes: [route({ adaptive }), { name: "fixed", path: "/f", limit: 3 }], default: { adaptive: { min: 1, max: 9 } } },
		});
		expect(config.routes[0]?.adaptive).toEqual(adaptive);
		expect(config.routes[1]?.adaptive).toBeNull();
		expect(config.fallback).toMatchObject({ limit: 9, adaptive: { min: 1, max: 9, initial: 1 } });
	});
});

describe("adaptive = { … }: invalid configs name the field, the value and what was expected", () => {
	it.each([
		[
			"both a fixed limit and adaptive",
			{ limit: 10 },
			'LIMITS.routes[0] ("api").limit: got 10, expected no fixed limit beside adaptive (a route has one or the other; adaptive.initial sets where it starts)',
		],
		[
			"min above max",
			{ adaptive: { min: 60, max: 50 } },
			'LIMITS.routes[0] ("api").adaptive.min: got 60, expected at most adaptive.max = 50',
		],
		[
			"initial below min",
			{ adaptive: { min: 5, max: 50, initial: 2 } },
			'LIMITS.routes[0] ("api").adaptive.initial: got 2, expected between adaptive.min = 5 and adaptive.max = 50',
		],
		[
			"initial above max",
			{ adaptive: { max: 50, initial: 80 } },
			'LIMITS.routes[0] ("api").adaptive.initial: got 80, expected between adaptive.min = 3 and adaptive.max = 50',
		],
		[
			"beta not above alpha",
			{ adaptive: { max: 50, alpha: 4, beta: 4 } },
			'LIMITS.routes[0] ("api").adaptive.beta: got 4, expected more than adaptive.alpha = 4 (the limit grows below alpha and shrinks above beta)',
		],
		[
			"probes too often for the window",
			{ adaptive: { max: 50, windowMs: 1_000, probeIntervalMs: 5_000 } },
			'LIMITS.routes[0] ("api").adaptive.probeIntervalMs: got 5000, expected at least 10 × adaptive.windowMs = 10000',
		],
		[
			"sharded",
			{ shards: 2 },
			`LIMITS.routes[0] ("api").shards: got 2, expected 1 with adaptive (the limit is learned from all of the route's traffic in one Durable Object)`,
		],
		["no ceiling", { adaptive: { min: 2 } }, 'LIMITS.routes[0] ("api").adaptive.max: got nothing, expected an integer >= 1'],
		["min 0", { adaptive: { min: 0, max: 5 } }, 'LIMITS.routes[0] ("api").adaptive.min: got 0, expected an integer >= 1'],
		[
			"backoff 1",
			{ adaptive: { max: 5, backoff: 1 } },
			'LIMITS.routes[0] ("api").adaptive.backoff: got 1, expected a number between 0 and 1',
		],
		["alpha 0", { adaptive: { max: 5, alpha: 0 } }, 'LIMITS.routes[0] ("api").adaptive.alpha: got 0, expected a number > 0'],
		["a typo", { adaptive: { max: 5, maxx: 6 } }, 'LIMITS.routes[0] ("api").adaptive.maxx: unknown setting'],
		["not a table", { adaptive: 5 }, 'LIMITS.routes[0] ("api").adaptive: got 5, expected a table (adaptive = { min, max })'],
		[
			"neither limit nor adaptive",
			{ adaptive: undefined },
			'LIMITS.routes[0] ("api").limit: got nothing, expected an integer >= 1 (or adaptive = { min, max } to learn it)',
		],
	])("%s", (_, change, message) => {
		const errors = errorsOf({ LIMITS: { routes: [{ ...route(), ...change }] } });
		expect(errors.join("\n")).toContain(message);
	});

	it("reports every contradiction of one route at once", () => {
		const errors = errorsOf({ LIMITS: { routes: [route({ limit: 5, shards: 3, adaptive: { min: 9, max: 4, alpha: 5, beta: 1 } })] } });
		expect(errors.map((e) => e.split(":")[0])).toEqual([
			'LIMITS.routes[0] ("api").limit',
			'LIMITS.routes[0] ("api").adaptive.min',
			'LIMITS.routes[0] ("api").adaptive.beta',
			'LIMITS.routes[0] ("api").shards',
		]);
	});

	it("checks the default route the same way", () => {
		expect(errorsOf({ LIMITS: { default: { limit: "unlimited", adaptive: { max: 5 } } } })).toEqual([
			'LIMITS.default.limit: got "unlimited", expected no fixed limit beside adaptive (a route has one or the other; adaptive.initial sets where it starts)',
		]);
		// Without limit or adaptive, the default table leaves unmatched requests unlimited (docs/configuration.md).
		expect(valid({ LIMITS: { default: { failMode: "open" } } }).fallback).toBeNull();
	});
});

describe("adaptive routes and WebSockets", () => {
	it('count a WebSocket\'s handshake only by default, and refuse websocket = "hold"', () => {
		expect(valid({ LIMITS: { routes: [route()] } }).routes[0]?.websocket).toBe("handshake");
		expect(valid({ LIMITS: { routes: [route({ websocket: "refuse" })] } }).routes[0]?.websocket).toBe("refuse");
		expect(errorsOf({ LIMITS: { routes: [route({ websocket: "hold" })] } })).toEqual([
			'LIMITS.routes[0] ("api").websocket: got "hold", expected "handshake" or "refuse" with adaptive (a held socket would keep a learned permit for its whole life and teach the limit nothing)',
		]);
	});
});
