// The benchmark's ceiling for a refusal: a Worker that only answers 429. Never deployed.
export default {
	fetch(): Response {
		return new Response("Too many requests", { status: 429, headers: { "retry-after": "1" } });
	},
};
