// One canonical spelling of a request's path (RFC 3986 §6.2.2), computed once: routes are matched on it
// and the origin receives it, so no spelling of a gated path can reach the origin under another route.

/** How paths whose meaning depends on the origin are treated (docs/paths.md). */
export interface PathOptions {
	/** Collapse runs of "/" into one, as nginx's `merge_slashes` (on by default there) does. */
	readonly mergeSlashes: boolean;
	/**
	 * %2F and %5C: "reject" answers 400; "decode" turns both into "/" (a separator, as WHATWG URLs treat "\");
	 * "keep" leaves them encoded, data inside one segment.
	 */
	readonly encodedSlashes: "reject" | "decode" | "keep";
	/** ";" parameters in a segment, which Java servlet containers strip before routing: "keep", "strip" or "reject" (400). */
	readonly pathParams: "keep" | "strip" | "reject";
}

export type CanonicalPath = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: string };

/** RFC 3986 §2.3: percent-encoding one of these changes nothing (§6.2.2.2), so they are always decoded. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;

const refuse = (problem: string): CanonicalPath => ({ ok: false, problem });

/**
 * The canonical form of `path`, an absolute path as a URL's `pathname` gives it (the WHATWG parser has
 * already turned "\" into "/" and percent-encoded what a path may not hold). Steps, in RFC 3986 §6.2.2's
 * order: percent-encoding normalized (unreserved characters decoded, other hex upper-cased), then encoded
 * slashes and ";" parameters as configured, then dot segments removed (§5.2.4), then repeated slashes
 * merged. Decoding comes first so that "%2E%2E" is a dot segment here as it is at the origin. Dot
 * segments go before slashes are merged because the URL parser has already resolved them that way
 * ("/a//../b" is "/a/b" in `request.url`): this function gives the same answer on a raw path as on a
 * parsed one. Either order is safe, as the origin receives the result, not the client's spelling.
 * Idempotent: the canonical form of a canonical path is itself.
 */
export function canonicalPath(path: string, options: PathOptions): CanonicalPath {
	if (!path.startsWith("/")) return refuse(`the path must start with "/", got ${JSON.stringify(path.slice(0, 40))}`);
	let decoded = "";
	for (let i = 0; i < path.length; i++) {
		const char = path[i];
		if (char !== "%") {
			decoded += char;
			continue;
		}
		const hex = path.slice(i + 1, i + 3);
		if (!HEX2.test(hex)) {
			return refuse(`invalid percent-encoding ${JSON.stringify(path.slice(i, i + 3))}: "%" must be followed by two hex digits`);
		}
		i += 2;
		const byte = String.fromCharCode(Number.parseInt(hex, 16));
		// A NUL ends a string in C: an origin may route on the part before it, so no canonical form is safe.
		if (byte === "\0") return refuse("an encoded NUL (%00) in the path");
		if (UNRESERVED.test(byte)) decoded += byte;
		else if (byte === "/" || byte === "\\") {
			if (options.encodedSlashes === "reject") {
				return refuse(`an encoded ${byte === "/" ? "slash (%2F)" : "backslash (%5C)"} in the path; this gate refuses them`);
			}
			decoded += options.encodedSlashes === "decode" ? "/" : `%${hex.toUpperCase()}`;
		} else decoded += `%${hex.toUpperCase()}`;
	}
	if (options.pathParams === "reject" && decoded.includes(";")) return refuse('a ";" parameter in the path; this gate refuses them');

	let segments = decoded.slice(1).split("/");
	// Servlet containers drop ";…" from every segment before mapping, "..;" included (so it is a dot segment).
	if (options.pathParams === "strip") segments = segments.map((s) => s.split(";", 1)[0] ?? "");
	segments = removeDotSegments(segments);
	// Empty segments go, except the last one: a trailing slash is not a repeated slash.
	if (options.mergeSlashes) segments = segments.filter((s, i) => s !== "" || i === segments.length - 1);
	return { ok: true, path: `/${segments.join("/")}` };
}

/** RFC 3986 §5.2.4 on a path split into segments: "." goes, ".." takes the previous segment with it. */
function removeDotSegments(segments: readonly string[]): string[] {
	const out: string[] = [];
	segments.forEach((segment, i) => {
		const last = i === segments.length - 1;
		if (segment === "." || segment === "..") {
			if (segment === "..") out.pop();
			// "/a/b/.." is "/a/": a dot segment at the end leaves a trailing slash.
			if (last) out.push("");
		} else out.push(segment);
	});
	return out;
}
