import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/parse.ts";

const route = (extra: Record<string, unknown> = {}) => ({ name: "chat", path: "/chat", limit: 2, ...extra });

describe("the websocket setting", () => {
	it('defaults to "hold" and accepts "handshake" and "refuse", on routes and on the default route', () => {
		const result = parseConfig({
			LIMITS: {
				routes: [route(), route({ name: "feed", websocket: "handshake" }), route({ name: "api", websocket: "refuse" })],
				default: { limit: 5, websocket: "refuse" },
			},
		});
		if (!result.ok) throw new Error(result.errors.join("\n"));
		expect(result.config.routes.map((r) => r.websocket)).toEqual(["hold", "handshake", "refuse"]);
		expect(result.config.fallback?.websocket).toBe("refuse");
	});

	it("rejects anything else, naming the field, the value and what was expected", () => {
		const result = parseConfig({ LIMITS: { routes: [route({ websocket: "allow" })], default: { limit: 1, websocket: true } } });
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.errors).toEqual([
			'LIMITS.routes[0] ("chat").websocket: got "allow", expected "hold", "handshake" or "refuse"',
			'LIMITS.default.websocket: got true, expected "hold", "handshake" or "refuse"',
		]);
	});
});
