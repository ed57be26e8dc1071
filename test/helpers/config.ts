// Parses a config in a test: the config when it must be valid, the errors when it must not be.
import type { ConfigVars, GateConfig } from "../../src/config/parse.ts";
import { parseConfig } from "../../src/config/parse.ts";

/** The parsed config; fails the test with every error the parser reports. */
export function valid(vars: ConfigVars): GateConfig {
	const result = parseConfig(vars);
	if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.join("\n")}`);
	return result.config;
}

/** The parser's errors; fails the test when it accepts the config. */
export function errorsOf(vars: ConfigVars): string[] {
	const result = parseConfig(vars);
	if (result.ok) throw new Error("expected the config to be rejected");
	return result.errors;
}
