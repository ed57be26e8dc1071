// The test runner's env: the Worker's bindings plus ORIGIN, set by vitest.config.ts to the loopback origin.
declare namespace Cloudflare {
	interface Env {
		ORIGIN: string;
	}
}

declare module "parse-prometheus-text-format" {
	interface Family {
		name: string;
		help: string;
		type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
		metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
	}
	export default function parse(text: string): Family[];
}
