// The standalone gate's own Worker env and main module, for `env` and `exports` from cloudflare:workers (its tests
// use them). An ambient file that no module imports: the library's faces never see it, so a Worker that uses the
// library keeps its own generated Env (the augmentation used to sit in types.ts and leaked into every importer).
import type { Bindings } from "./types.ts";

declare global {
	namespace Cloudflare {
		/**
		 * The Worker's env, declared here by hand rather than generated from wrangler.toml: editing a limit in
		 * `[vars]` (or a local .dev.vars) must never make the types stale. The vars' shape is checked at runtime
		 * by src/config/, and `wrangler types --include-env=false --check` keeps the runtime types current.
		 */
		interface Env extends Bindings {}
		/** The main module's exports (`exports` from cloudflare:workers, ctx.exports) and the Durable Object classes. */
		interface GlobalProps {
			mainModule: typeof import("./index.ts");
			durableNamespaces: "Gauge";
		}
	}
}
