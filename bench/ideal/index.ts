// The benchmark's floor for a flood: the simplest gate there is, a counter in one isolate's memory (no Durable
// Object, no headers, no streaming), in front of the same origin. Whatever utilisation and latency it reaches
// on this machine under the same load is what any gate can reach here. Never deployed: it is exact only
// because the benchmark runs one isolate.
interface Env {
	ORIGIN: string;
	LIMIT?: string;
}

let inFlight = 0;

export default {
	async fetch(request: Request, env: Env): Promise<Response> {
		if (inFlight >= Number(env.LIMIT ?? 10)) return new Response("Too many requests", { status: 429, headers: { "retry-after": "1" } });
		inFlight++;
		try {
			const url = new URL(request.url);
			const res = await fetch(`${env.ORIGIN}${url.pathname}${url.search}`);
			// The whole body read before the permit goes back, as the gate releases when the body is delivered.
			return new Response(await res.arrayBuffer(), res);
		} finally {
			inFlight--;
		}
	},
};
