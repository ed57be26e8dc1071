// Bearer-token check for the admin surface (RFC 6750), comparing in constant time.

const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
	return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/**
 * True when the Authorization header carries `Bearer <token>`. Both sides are hashed first so the
 * comparison takes the same time whatever the length or content of the guess.
 */
export async function isAuthorized(authorization: string | undefined, token: string): Promise<boolean> {
	const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
	const given = match?.[1] ?? "";
	const [a, b] = await Promise.all([digest(given), digest(token)]);
	return crypto.subtle.timingSafeEqual(a, b) && given !== "";
}

/** 401 with the challenge RFC 6750 §3 asks for. */
export function unauthorized(): Response {
	return new Response("Unauthorized", {
		status: 401,
		headers: { "www-authenticate": 'Bearer realm="pressure-gauge"', "content-type": "text/plain; charset=utf-8" },
	});
}
