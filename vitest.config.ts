import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		reporters: ["default", "./test/helpers/summary-reporter.ts"],
		projects: [
			{
				// Unit and integration tests, inside workerd with the real Durable Object.
				plugins: [
					cloudflareTest(({ inject }) => ({
						wrangler: { configPath: "./wrangler.toml" },
						// Hermetic: a developer's .dev.vars (or .env) must not change what the tests see, so every var the
						// Worker reads besides LIMITS is pinned here; tests that need the admin surface pass a token.
						miniflare: { bindings: { ORIGIN: inject("originUrl"), ADMIN_TOKEN: "", ADMIN_PREFIX: "" } },
					})),
				],
				test: {
					name: "workers",
					include: ["test/**/*.test.ts"],
					exclude: ["test/e2e/**", "test/runtime/**"],
					globalSetup: ["test/helpers/global-setup.ts"],
					sequence: { groupOrder: 0 },
				},
			},
			{
				// Inside workerd, through the main Worker as a client reaches it (`exports.default`), so that a client
				// that aborts gets its handler cancelled by the runtime. Its own LIMITS, so the project above keeps
				// the shipped wrangler.toml's.
				plugins: [
					cloudflareTest(({ inject }) => ({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: {
							bindings: {
								ORIGIN: inject("originUrl"),
								ADMIN_TOKEN: "",
								ADMIN_PREFIX: "",
								LIMITS: { routes: [{ name: "cancel", path: "/cancel/*", limit: 5, perKey: { limit: 1, by: "header:x-key" } }] },
							},
						},
					})),
				],
				test: {
					name: "workers-runtime",
					include: ["test/runtime/**/*.test.ts"],
					globalSetup: ["test/helpers/global-setup.ts"],
					sequence: { groupOrder: 0 },
				},
			},
			{
				// The example a user copies (examples/hono-app/), inside workerd with its own wrangler config, importing
				// pressure-gauge as installed from the packed tarball (`npm test` installs it first: dev/example.ts).
				plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })], // relative to the project root below
				test: {
					name: "example",
					root: "./examples/hono-app",
					include: ["test/**/*.test.ts"],
					sequence: { groupOrder: 0 },
				},
			},
			{
				// End to end: the gate under wrangler's local runtime, a real origin on 127.0.0.1, real HTTP.
				test: {
					name: "e2e",
					include: ["test/e2e/**/*.test.ts"],
					environment: "node",
					testTimeout: 120_000,
					hookTimeout: 60_000,
					fileParallelism: false,
					// After the workers project, so load tests do not share the two cores with it.
					sequence: { groupOrder: 1 },
				},
			},
		],
	},
});
