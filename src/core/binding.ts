// Finds the Gauge Durable Object namespace a face asks: the user's `binding` function, else env.GAUGE.
import type { GaugeNamespace, GaugeRpc } from "../gauge-rpc.ts";
import { gaugeNamespace } from "../isolate/stub.ts";

/** The binding name the Gauge class itself uses to reach a sharded gauge's shard 0 (src/object/durable-object.ts). */
export const DEFAULT_BINDING = "GAUGE";

/** The namespace, or an Error saying what to bind: a missing binding is a deployment bug, not a refusal. */
export function namespaceFrom(face: string, found: unknown, viaOption: boolean): GaugeNamespace {
	const ns = found as { getByName?: unknown } | null | undefined;
	if (typeof ns?.getByName !== "function") {
		const where = viaOption ? "options.binding returned" : `env.${DEFAULT_BINDING} is`;
		throw new Error(
			`pressure-gauge: ${face}: ${where} ${ns === undefined ? "undefined" : "not a Durable Object namespace"}; bind the Gauge class in wrangler.toml ([[durable_objects.bindings]] name = "${DEFAULT_BINDING}", class_name = "Gauge") and re-export Gauge from your Worker`,
		);
	}
	return gaugeNamespace(found as DurableObjectNamespace<GaugeRpc>);
}
