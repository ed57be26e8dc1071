// The metrics exposition as a real Prometheus toolchain meets it: `promtool check metrics` (Debian's
// `prometheus` package) lints names, types, HELP texts and the format itself.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { request } from "../../dev/client.ts";
import type { LocalGate } from "../../dev/gate.ts";
import { LOCAL_ADMIN_TOKEN, startGate } from "../../dev/gate.ts";
import type { Origin } from "../../dev/origin.ts";
import { startOrigin } from "../../dev/origin.ts";

const PROMTOOL = process.env.PROMTOOL_PATH ?? "promtool";
/** CI installs prometheus (.ci/run); elsewhere the test says how to get promtool rather than failing the suite. */
const havePromtool = spawnSync(PROMTOOL, ["--version"]).status === 0 || process.env.CI === "true";
if (!havePromtool) console.warn(`metrics lint skipped: no ${PROMTOOL} (apt-get install prometheus, or set PROMTOOL_PATH)`);

let origin: Origin;
let gate: LocalGate;

beforeAll(async () => {
	if (!havePromtool) return;
	origin = await startOrigin();
	gate = await startGate({
		origin: origin.url,
		limits: {
			routes: [
				{ name: "plain", path: "/plain/*", limit: 2 },
				{ name: "keyed", path: "/keyed/*", limit: 4, perKey: { limit: 1, by: "header:x-user" }, queue: { size: 2, maxWaitMs: 200 } },
				{ name: "learned", path: "/learned/*", adaptive: { min: 2, max: 20 } },
				{
					name: "shared",
					path: "/shared/*",
					limit: 2,
					perKey: { by: "header:x-user" },
					queue: { size: 4, maxWaitMs: 200, order: "adaptive" },
					classes: [
						{ name: "critical", headroom: 0, match: { methods: ["POST"] } },
						{ name: "bulk", headroom: 0.5 },
					],
				},
			],
			default: { limit: 10 },
		},
	});
});

afterAll(async () => {
	await gate?.close();
	await origin?.close();
});

it.skipIf(!havePromtool)("promtool check metrics accepts /__gauge/metrics, with traffic on every route", async () => {
	const get = async (path: string, headers: Record<string, string> = {}) =>
		(await request(`${gate.url}${path}`, { headers, timeoutMs: 10_000 })).status;
	// Admissions, refusals (route and key), a queue wait and a release on each route, so no family is empty.
	const statuses = await Promise.all([
		get("/plain/work?delay=150"),
		get("/plain/work?delay=150"),
		get("/plain/work?delay=150"),
		get("/keyed/work?delay=150", { "x-user": "a" }),
		get("/keyed/work?delay=150", { "x-user": "a" }),
		get("/other?delay=0"),
		get("/learned/work?delay=10"),
		get("/shared/work?delay=150", { "x-user": "a" }),
		get("/shared/work?delay=150", { "x-user": "b" }),
	]);
	expect(statuses).toContain(429);

	const { text } = await request(`${gate.url}/__gauge/metrics`, {
		headers: { authorization: `Bearer ${LOCAL_ADMIN_TOKEN}` },
		timeoutMs: 10_000,
	});
	expect(text).toMatch(/^pressuregauge_admitted_total\{route="plain"\} [1-9]/m);
	// Refusals by scope: the key's share (reported by isolates, about a second late) beside the route's own.
	expect(text).toMatch(/^pressuregauge_refused_total\{route="keyed",scope="key"\} \d+$/m);
	expect(text).toMatch(/^pressuregauge_refused_total\{route="plain",scope="route"\} \d+$/m);
	expect(text).toMatch(/^pressuregauge_config_valid 1$/m);
	expect(text).toMatch(/^pressuregauge_adaptive_limit\{route="learned",kind="ceiling"\} 20$/m);
	expect(text).toMatch(/^pressuregauge_class_admitted_total\{route="shared",class="bulk"\} [1-9]/m);
	expect(text).toMatch(/^pressuregauge_fair_share\{route="shared"\} \d+$/m);
	expect(text).toMatch(/^pressuregauge_queue_lifo\{route="shared"\} [01]$/m);
	expect(text).toMatch(/^pressuregauge_adaptive_samples_total\{route="learned",outcome="ok"\} 1$/m);
	const lint = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 10_000 });
	expect(lint.error).toBeUndefined();
	expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, output: "" });
});
