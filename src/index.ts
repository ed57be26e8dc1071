// pressure-gauge, the package root: the Gauge Durable Object class (re-export it from your Worker), withGauge for a
// plain fetch handler, acquire for code that holds a permit itself, and their types. Hono: pressure-gauge/hono.

export type { AdaptiveSettings } from "./adaptive/settings.ts";
export type { LocationHint } from "./config/schema.ts";
export type { Refusal } from "./core/acquire.ts";
export type { GaugeOptions, KeySource, OnRefused } from "./core/options.ts";
export { refusalResponse } from "./core/refusal-response.ts";
export type { AcquireResult, FetchContext, FetchGaugeOptions, FetchHandler, GaugePermit } from "./fetch.ts";
export { acquire, withGauge } from "./fetch.ts";
export type { GaugeStatus } from "./object/durable-object.ts";
export { Gauge } from "./object/durable-object.ts";
export type { LimitView } from "./responses/ratelimit-headers.ts";
