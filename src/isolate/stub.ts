// Every call that reaches a gauge's Durable Object gets its stub here, so a route's locationHint places its objects
// near the origin whichever call touches them first: a request, a check-in, a report, or the admin surface.
import type { LocationHint } from "../config/schema.ts";
import type { Gauge } from "../object/durable-object.ts";

export function gaugeStub(ns: DurableObjectNamespace<Gauge>, name: string, locationHint?: LocationHint | null): DurableObjectStub<Gauge> {
	return locationHint ? ns.getByName(name, { locationHint }) : ns.getByName(name);
}
