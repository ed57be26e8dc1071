// The Hono environment shared by the gate's middleware: bindings in, per-request variables between steps.
import type { GateConfig, Route } from "../config/parse.ts";
import type { Exchange } from "../isolate/exchange-sample.ts";
import type { ReleaseReason } from "../isolate/permit-types.ts";
import type { Gauge } from "../object/durable-object.ts";

export interface Bindings {
	readonly GAUGE: DurableObjectNamespace<Gauge>;
	readonly LIMITS?: unknown;
	readonly ORIGIN?: unknown;
	readonly ADMIN_PREFIX?: unknown;
	readonly PATHS?: unknown;
	/** Bearer token for the admin surface (a secret); unset turns the surface off. */
	readonly ADMIN_TOKEN?: string;
}

export interface Variables {
	config: GateConfig;
	/**
	 * The config's errors; empty when it is valid. When not, `config` holds no route and no origin, only where the
	 * admin surface is and how paths are made canonical: only the admin surface answers, to report the errors.
	 */
	configErrors: readonly string[];
	/** The request's canonical path: matched against the admin prefix and the routes, and sent to the origin. */
	path: string;
	/** The matched route; null when the request passes through ungated. */
	route: Route | null;
	/** Aborts when the exchange must stop: the route's deadline, or the client going away. */
	deadline: AbortSignal;
	/** Set by the proxy when the origin failed, so the permit goes back at once. */
	upstreamFailure: ReleaseReason | undefined;
	/** Set by the proxy: when the origin was asked, how long its headers took, and its status. */
	exchange: Exchange | undefined;
}

export type GateEnv = { Bindings: Bindings; Variables: Variables };
