// The test runner's env: the Worker's bindings plus ORIGIN, set by vitest.config.ts to the loopback origin.
declare namespace Cloudflare {
	interface Env {
		ORIGIN: string;
	}
}
