// Whether a URLPattern compiles, for the config checks of route patterns and class matches.

/** A URLPattern's complaint about `init`, or null when it compiles. */
export function patternError(init: URLPatternInit): string | null {
	try {
		new URLPattern(init);
		return null;
	} catch (error) {
		return (error as Error).message;
	}
}
