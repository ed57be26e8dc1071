import { afterEach, describe, expect, it, vi } from "vitest";
import { logSampled } from "../src/log.ts";

describe("logSampled", () => {
	afterEach(() => vi.restoreAllMocks());

	it("writes at most one line a second per key in a flood, folding the rest into its count", () => {
		const lines: unknown[] = [];
		vi.spyOn(console, "log").mockImplementation((line: unknown) => lines.push(JSON.parse(String(line))));
		const key = `flood-${crypto.randomUUID()}`;
		for (let i = 0; i < 1_000; i++) logSampled("fail_open", key, { route: key }, 10_000 + i / 2);
		expect(lines).toEqual([{ event: "fail_open", route: key, count: 1 }]);
		logSampled("fail_open", key, { route: key }, 11_001);
		expect(lines).toHaveLength(2);
		expect(lines[1]).toEqual({ event: "fail_open", route: key, count: 1_000 });
		logSampled("fail_open", `other-${key}`, {}, 11_002);
		expect(lines).toHaveLength(3);
	});
});
