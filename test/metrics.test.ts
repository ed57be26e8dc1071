import parse from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { gate } from "./helpers/gate.ts";

const TOKEN = "metrics-token";

describe("GET …/metrics (Prometheus text format)", () => {
	it("parses back into counters, gauges and a hold-time histogram with the live values", async () => {
		const g = gate({ routes: [{ name: "m", path: "/*", limit: 2 }] }, { ADMIN_TOKEN: TOKEN });
		const held = await g.fetch("/stream?chunks=10&interval=50");
		const done = await g.fetch("/request?delay=30");
		await done.arrayBuffer();
		const res = await g.fetch("/__gauge/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
		expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
		const text = await res.text();
		const families = parse(text);
		const route = g.routeNames()[0];
		const value = (name: string, labels: Record<string, string> = {}) =>
			families
				.find((f) => f.name === name)
				?.metrics.find((m) => m.labels?.route === route && Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;

		expect(families.find((f) => f.name === "pressuregauge_in_flight")?.type).toBe("GAUGE");
		expect(families.find((f) => f.name === "pressuregauge_admitted_total")?.type).toBe("COUNTER");
		expect(value("pressuregauge_in_flight")).toBe("1");
		expect(value("pressuregauge_limit", { kind: "configured" })).toBe("2");
		expect(value("pressuregauge_limit", { kind: "effective" })).toBe("2");
		expect(value("pressuregauge_admitted_total")).toBe("2");
		expect(value("pressuregauge_released_total")).toBe("1");
		for (const counter of ["refused", "reaped", "dry_run_refused", "queued", "local_refused", "object_errors", "fail_open"]) {
			expect(families.find((f) => f.name === `pressuregauge_${counter}_total`)?.type).toBe("COUNTER");
			expect(value(`pressuregauge_${counter}_total`)).toBe("0");
		}

		expect(families.find((f) => f.name === "pressuregauge_hold_seconds")?.type).toBe("HISTOGRAM");
		// The parser drops the labels of histogram series, so read this route's series line by line.
		const series = (suffix: string) =>
			[...text.matchAll(new RegExp(`^pressuregauge_hold_seconds_${suffix}\\{route="${route}"(?:,le="([^"]+)")?\\} (\\S+)$`, "gm"))].map(
				(m) => ({
					le: m[1],
					value: Number(m[2]),
				}),
			);
		expect(series("count")).toEqual([{ le: undefined, value: 1 }]);
		expect(series("sum")[0]?.value).toBeGreaterThan(0.02);
		const buckets = series("bucket");
		expect(buckets.at(-1)).toEqual({ le: "+Inf", value: 1 });
		expect(buckets.find((b) => b.le === "0.01")?.value).toBe(0);
		// Cumulative: never decreasing.
		const counts = buckets.map((b) => b.value);
		expect(counts).toEqual([...counts].sort((a, b) => a - b));
		await held.arrayBuffer();
	});
});

describe("GET …/ (status page)", () => {
	it("serves the self-contained page without the token (it holds no data), and 404 with no ADMIN_TOKEN", async () => {
		const g = gate({ routes: [{ name: "p", path: "/*", limit: 2 }] }, { ADMIN_TOKEN: TOKEN });
		const res = await g.fetch("/__gauge/");
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^text\/html/);
		const html = await res.text();
		expect(html).toContain("sessionStorage");
		expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/);
		expect((await gate({ routes: [] }).fetch("/__gauge/")).status).toBe(404);
	});
});
