// The Worker: the gate as the default export, and the Durable Object class that holds each route's permits.
import { createApp } from "./app.ts";

export { Gauge } from "../object/durable-object.ts";

export default createApp();
