// Starts one loopback origin for the in-workerd tests; they reach it through ORIGIN.
import type { TestProject } from "vitest/node";
import { startOrigin } from "../../dev/origin.ts";

declare module "vitest" {
	export interface ProvidedContext {
		originUrl: string;
	}
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const origin = await startOrigin();
	project.provide("originUrl", origin.url);
	return () => origin.close();
}
