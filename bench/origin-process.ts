// The loopback origin (dev/origin.ts) in a process of its own, for scenarios where the load generator would
// otherwise share its event loop and delay the origin's answers. Prints its URL, then serves until killed.
import { startOrigin } from "../dev/origin.ts";

const origin = await startOrigin({ contentLength: true });
console.log(origin.url);
process.on("SIGTERM", () => void origin.close().then(() => process.exit(0)));
