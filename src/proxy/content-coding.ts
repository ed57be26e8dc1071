// Which content codings a client accepts (RFC 9110 §12.5.3), so that the origin's gzip or br reaches only a
// client that asked for it.

/**
 * True when `acceptEncoding` lists `coding` (or `*`) with a q-value above 0. Unlike the RFC's letter (no header:
 * any coding is acceptable), no header or an empty one accepts none: servers answer such clients uncompressed,
 * and curl without --compressed does not decode.
 */
export function acceptsCoding(acceptEncoding: string | null, coding: string): boolean {
	let wildcard: boolean | null = null;
	for (const item of (acceptEncoding ?? "").split(",")) {
		const [name = "", ...params] = item.split(";").map((part) => part.trim().toLowerCase());
		const q = params.find((p) => p.startsWith("q="));
		const acceptable = q === undefined || Number(q.slice(2)) > 0;
		if (name === coding) return acceptable;
		if (name === "*") wildcard = acceptable;
	}
	return wildcard ?? false;
}
