// Every call that reaches a gauge's Durable Object gets its stub here, so a route's locationHint places its objects
// near the origin whichever call touches them first: a request, a check-in, a report, or the admin surface.
import type { LocationHint } from "../config/schema.ts";
import type { GaugeNamespace, GaugeRpc } from "../gauge-rpc.ts";

/** Generic so the gate's admin surface gets the whole Gauge class's stub; an isolate asks with GaugeRpc (protocol.ts). */
export function gaugeStub<T extends Rpc.DurableObjectBranded>(
	ns: DurableObjectNamespace<T>,
	name: string,
	locationHint?: LocationHint | null,
): DurableObjectStub<T> {
	return locationHint ? ns.getByName(name, { locationHint }) : ns.getByName(name);
}

/**
 * A namespace of the Gauge class (or any class with its RPC methods), seen as the isolate's GaugeNamespace.
 * DurableObjectNamespace is invariant in its class, so the user's `DurableObjectNamespace<Gauge>` needs this one
 * view; `T extends GaugeRpc` keeps it checked.
 */
export function gaugeNamespace<T extends GaugeRpc>(ns: DurableObjectNamespace<T>): GaugeNamespace {
	return ns as unknown as GaugeNamespace;
}
