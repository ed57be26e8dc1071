// The status page in a real browser (Debian's chromium, driven by playwright-core) while the gate is under load.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LocalGate } from "../../dev/gate.ts";
import { LOCAL_ADMIN_TOKEN, startGate } from "../../dev/gate.ts";
import { runLoad } from "../../dev/load.ts";
import type { Origin } from "../../dev/origin.ts";
import { startOrigin } from "../../dev/origin.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** CI installs chromium (.ci/run); elsewhere the test says how to get it rather than failing the suite. */
const haveBrowser = existsSync(CHROMIUM) || process.env.CI === "true";
if (!haveBrowser) console.warn(`status page test skipped: no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

let origin: Origin;
let gate: LocalGate;
let browser: Browser;

beforeAll(async () => {
	if (!haveBrowser) return;
	origin = await startOrigin({ delayMs: 1_500 });
	gate = await startGate({
		origin: origin.url,
		limits: {
			routes: [
				{ name: "learned", path: "/learned/*", adaptive: { min: 2, max: 30 } },
				{ name: "keyed", path: "/keyed/*", limit: 10, perKey: { limit: 1, by: "header:x-user" } },
				{
					name: "shared",
					path: "/shared/*",
					limit: 4,
					perKey: { by: "header:x-user" },
					queue: { size: 4, maxWaitMs: 500, order: "adaptive" },
					classes: [
						{ name: "critical", headroom: 0, match: { methods: ["POST"] } },
						{ name: "bulk", headroom: 0.5 },
					],
				},
				{ name: "slow", path: "/*", limit: 4 },
			],
		},
	});
	// The flags the machine's probe uses: no sandbox as root, and no background traffic on a closed network.
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
});

afterAll(async () => {
	await browser?.close();
	await gate?.close();
	await origin?.close();
});

it.skipIf(!haveBrowser)("shows the route's in-flight count rising above zero under load and falling back to zero", async () => {
	const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
	await page.goto(`${gate.url}/__gauge/`);
	await page.fill("#token", LOCAL_ADMIN_TOKEN);
	await page.click("button[type=submit]");
	await expect.poll(() => page.locator("#login").isVisible()).toBe(false);
	const inFlight = page.locator('[data-route="slow"] [data-field="inFlight"]');
	await expect.poll(() => inFlight.textContent(), { timeout: 10_000 }).toBe("0");

	const load = runLoad({ url: `${gate.url}/work`, requests: 16, concurrency: 8 });
	await expect.poll(async () => Number(await inFlight.textContent()), { timeout: 10_000 }).toBeGreaterThan(0);
	await mkdir("test-results", { recursive: true });
	await page.screenshot({ path: "test-results/status-page.png", fullPage: true });
	const seenUnderLoad = Number(await inFlight.textContent());

	expect((await load).problems, "requests without an answer").toEqual([]);
	await expect.poll(() => inFlight.textContent(), { timeout: 10_000 }).toBe("0");
	expect(seenUnderLoad).toBeLessThanOrEqual(4);
	expect(await page.locator('[data-route="slow"] [data-field="limit"]').textContent()).toBe("4");
	// The token lives in this tab only.
	expect(await page.evaluate(() => sessionStorage.getItem("pressure-gauge-token"))).toBe(LOCAL_ADMIN_TOKEN);
	expect(await page.evaluate(() => localStorage.length)).toBe(0);
});

it.skipIf(!haveBrowser)("takes the token from the URL fragment (#token=…) and drops it from the address bar", async () => {
	const page = await browser.newPage();
	await page.goto(`${gate.url}/__gauge/#token=${encodeURIComponent(LOCAL_ADMIN_TOKEN)}`);
	const limit = page.locator('[data-route="slow"] [data-field="limit"]');
	await expect.poll(() => limit.textContent(), { timeout: 10_000 }).toBe("4");
	expect(await page.locator("#login").isVisible()).toBe(false);
	expect(page.url()).toBe(`${gate.url}/__gauge/`);
	expect(await page.evaluate(() => location.hash)).toBe("");
	expect(await page.evaluate(() => sessionStorage.getItem("pressure-gauge-token"))).toBe(LOCAL_ADMIN_TOKEN);
});

it.skipIf(!haveBrowser)("draws the limit and in-flight count over time, and an adaptive route's bounds and latencies", async () => {
	const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
	await page.goto(`${gate.url}/__gauge/#token=${encodeURIComponent(LOCAL_ADMIN_TOKEN)}`);
	const learned = page.locator('[data-route="learned"]');
	await expect.poll(() => learned.locator('[data-field="bounds"]').textContent(), { timeout: 10_000 }).toBe("2 / 30");
	expect(await learned.locator('[data-field="limit"]').textContent()).toBe("2 (adaptive)");
	await runLoad({ url: `${gate.url}/learned/work?delay=50`, requests: 12, concurrency: 2 });
	// One point per poll (a second apart): the line grows as the page keeps polling.
	const points = async () => ((await learned.locator("polyline.used").getAttribute("points")) ?? "").split(" ").length;
	await expect.poll(points, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
	await expect.poll(() => learned.locator('[data-field="latency"]').textContent(), { timeout: 10_000 }).toMatch(/^\d+ \/ \d+ ms$/);
	await mkdir("test-results", { recursive: true });
	await page.screenshot({ path: "test-results/status-page-adaptive.png", fullPage: true });
});

it.skipIf(!haveBrowser)("counts a client's perKey refusals in the route's refusals per second", async () => {
	const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
	await page.goto(`${gate.url}/__gauge/#token=${encodeURIComponent(LOCAL_ADMIN_TOKEN)}`);
	const keyed = page.locator('[data-route="keyed"]');
	await expect.poll(() => keyed.locator('[data-field="limit"]').textContent(), { timeout: 10_000 }).toBe("10");
	// One client, one permit of its own: while one request holds it (1.5 s at the origin), the others are refused
	// with scope "key", which the route's own Durable Object never sees. Several seconds of it, so polls see a rate.
	const load = runLoad({ url: `${gate.url}/keyed/work`, requests: 60, concurrency: 3, init: { headers: { "x-user": "a" } } });
	// Both from one rendering of the card: the page redraws it every second.
	const rates = () =>
		keyed.evaluate((card) => ["rps", "keyRps"].map((f) => Number(card.querySelector(`[data-field="${f}"]`)?.textContent ?? 0)));
	await expect.poll(async () => Math.min(...(await rates())), { timeout: 15_000 }).toBeGreaterThan(0);
	await mkdir("test-results", { recursive: true });
	await page.screenshot({ path: "test-results/status-page-key-refusals.png", fullPage: true });
	expect((await load).problems, "requests without an answer").toEqual([]);
});

it.skipIf(!haveBrowser)("shows a route's classes, its fair share and its queue mode", async () => {
	const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
	await page.goto(`${gate.url}/__gauge/#token=${encodeURIComponent(LOCAL_ADMIN_TOKEN)}`);
	await runLoad({ url: `${gate.url}/shared/work?delay=10`, requests: 2, concurrency: 1 });
	const shared = page.locator('[data-route="shared"]');
	await expect.poll(() => shared.locator('[data-field="classStats1"]').textContent(), { timeout: 10_000 }).toMatch(/2 admitted/);
	expect(await shared.locator('[data-field="class1"]').textContent()).toBe("class bulk");
	expect(await shared.locator('[data-field="queueMode"]').textContent()).toBe("fifo");
	expect(await shared.locator('[data-field="fair"]').textContent()).toMatch(/^\d+ \(1 keys/);
});
