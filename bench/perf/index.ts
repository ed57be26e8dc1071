// Throwaway harness: one Worker, variants picked by the x-variant header, so they run side by side in one
// runtime (bench/perf/run.ts drives it with hey). Bench only, never deployed, never in src/.
import { Hono } from "hono/tiny";
import { adminSurface } from "../../src/gate/admin/index.ts";
import { createApp, onWorkerError } from "../../src/gate/app.ts";
import { downstreamResponse, upstreamRequest } from "../../src/gate/forward.ts";
import { loadConfig } from "../../src/gate/load-config.ts";
import { matchRoute } from "../../src/gate/match-route.ts";
import { normalizePath } from "../../src/gate/normalize-path.ts";
import { proxy } from "../../src/gate/proxy.ts";
import type { GateEnv } from "../../src/gate/types.ts";
import { tooManyRequests } from "../../src/responses/refusal.ts";
import type { Knobs } from "./hold-variant.ts";
import { FULL, holdVariant } from "./hold-variant.ts";

export { Gauge } from "../../src/gate/index.ts";

type Env = Cloudflare.Env;
type Handler = { fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> };

/** A Durable Object namespace whose objects always grant (or always refuse) at once, without any RPC. */
function stubNamespace(grant: boolean): unknown {
	const stub = {
		async acquire(req: { leaseId: string; limit: number; maxHoldMs: number }) {
			if (grant)
				return { ok: true, leaseId: req.leaseId, expiresAt: Date.now() + req.maxHoldMs, inFlight: 1, limit: req.limit, quota: req.limit };
			return { ok: false, reason: "full", inFlight: req.limit, limit: req.limit, quota: req.limit, retryAfterMs: 200 };
		},
		async release() {
			return true;
		},
		async cancel() {
			return true;
		},
	};
	return { getByName: () => stub };
}

const GATED = { routes: [{ name: "bench", path: "/*", limit: 10_000 }] };
const FLOOD = { routes: [{ name: "bench", path: "/*", limit: 10 }] };
const UNGATED = { routes: [] };

function variantApp(k: Partial<Knobs>): Hono<GateEnv> {
	const app = new Hono<GateEnv>();
	app.use(loadConfig, normalizePath, adminSurface, matchRoute, holdVariant({ ...FULL, ...k }));
	app.all("*", proxy);
	app.onError(onWorkerError);
	return app;
}

const bare = new Hono<{ Bindings: { ORIGIN: string } }>();
bare.all("*", async (c) => downstreamResponse(await fetch(upstreamRequest(c.req.raw, new URL(c.env.ORIGIN), c.req.raw.signal))));

/** Refusal building blocks alone. */
const r429: Handler = { fetch: () => new Response("Too many requests", { status: 429, headers: { "retry-after": "1" } }) };
const refusal = () =>
	tooManyRequests({
		retryAfterMs: 200,
		accept: null,
		route: "bench",
		scope: "route",
		views: [{ policy: "bench", limit: 10, remaining: 0, resetSeconds: 1 }],
		withRateLimitHeaders: true,
	});
const refuseBuilt: Handler = { fetch: refusal };
const honoChain = new Hono<GateEnv>();
honoChain.use(loadConfig, normalizePath, adminSurface, matchRoute);
honoChain.all("*", () => refusal());

/** name -> [handler, LIMITS, gauge: real | grant | refuse] */
const VARIANTS: Record<string, [Handler, unknown, "real" | "grant" | "refuse"]> = {
	bare: [bare as unknown as Handler, UNGATED, "real"],
	ungated: [createApp() as unknown as Handler, UNGATED, "real"],
	gated: [createApp() as unknown as Handler, GATED, "grant"],
	"gated-real": [createApp() as unknown as Handler, GATED, "real"],
	copy: [variantApp({}) as unknown as Handler, GATED, "grant"],
	"no-body-hold": [variantApp({ body: "none" }) as unknown as Handler, GATED, "grant"],
	identity: [variantApp({ body: "identity" }) as unknown as Handler, GATED, "grant"],
	"identity-nowait": [variantApp({ body: "identity-nowait" }) as unknown as Handler, GATED, "grant"],
	buffer: [variantApp({ body: "buffer" }) as unknown as Handler, GATED, "grant"],
	"buffer-lean": [variantApp({ body: "buffer", guard: false, deadline: false }) as unknown as Handler, GATED, "grant"],
	native: [variantApp({ body: "native" }) as unknown as Handler, GATED, "grant"],
	pull: [variantApp({ body: "pull" }) as unknown as Handler, GATED, "grant"],
	lean: [variantApp({ guard: false, deadline: false }) as unknown as Handler, GATED, "grant"],
	"no-guard": [variantApp({ guard: false }) as unknown as Handler, GATED, "grant"],
	"no-deadline": [variantApp({ deadline: false }) as unknown as Handler, GATED, "grant"],
	"no-waitdone": [variantApp({ waitDone: false }) as unknown as Handler, GATED, "grant"],
	"no-permit-wu": [variantApp({ permitWaitUntil: false }) as unknown as Handler, GATED, "grant"],
	"no-waituntil": [variantApp({ guard: false, waitDone: false, permitWaitUntil: false }) as unknown as Handler, GATED, "grant"],
	"none-at-all": [
		variantApp({ body: "none", guard: false, deadline: false, permitWaitUntil: false }) as unknown as Handler,
		GATED,
		"grant",
	],
	r429: [r429, FLOOD, "real"],
	"refuse-built": [refuseBuilt, FLOOD, "real"],
	"refuse-chain": [honoChain as unknown as Handler, FLOOD, "real"],
	refuse: [createApp() as unknown as Handler, FLOOD, "refuse"],
	"refuse-noguard": [variantApp({ guard: false }) as unknown as Handler, FLOOD, "refuse"],
	"refuse-real": [createApp() as unknown as Handler, FLOOD, "real"],
};

/** One env object per variant for the isolate's life: loadConfig caches the parsed config per env object. */
const envs = new Map<string, Env>();

export default {
	fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
		const name = request.headers.get("x-variant") ?? "bare";
		const variant = VARIANTS[name];
		if (!variant) return new Response(`no variant ${name}`, { status: 404 });
		let e = envs.get(name);
		if (!e) {
			const [, limits, gauge] = variant;
			e = { ...env, LIMITS: limits, ...(gauge === "real" ? {} : { GAUGE: stubNamespace(gauge === "grant") }) } as Env;
			envs.set(name, e);
		}
		return variant[0].fetch(request, e, ctx);
	},
};
