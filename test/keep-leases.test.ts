import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { keepLeases } from "../src/hold/websocket.ts";
import type { ReleaseReason, Renewable, RenewOutcome } from "../src/isolate/permit-types.ts";

const HOLD_MS = 600;

/** A lease whose renewals answer as `answers` says, in turn (the last answer repeats). */
class FakeLease implements Renewable {
	reason: ReleaseReason | null = null;
	renewals: number[] = [];
	private leaseFrom = Date.now();
	private readonly answers: (RenewOutcome | "hang")[];

	constructor(answers: (RenewOutcome | "hang")[]) {
		this.answers = answers;
	}

	get expiresBy(): number {
		return this.leaseFrom + HOLD_MS;
	}

	renew(): Promise<RenewOutcome> {
		const askedAt = Date.now();
		this.renewals.push(askedAt);
		const answer = this.answers.length > 1 ? this.answers.shift() : this.answers[0];
		if (answer === "hang") return new Promise(() => undefined);
		if (answer === "renewed") this.leaseFrom = askedAt;
		return Promise.resolve(answer ?? "renewed");
	}

	release(reason: ReleaseReason): Promise<void> {
		this.reason ??= reason;
		return Promise.resolve();
	}
}

/** Runs keepLeases for `ms` of fake time; returns when it reported the lease lost, if it did. */
async function run(lease: FakeLease, ms: number): Promise<number | null> {
	let lostAt: number | null = null;
	const stop = keepLeases(lease, HOLD_MS, () => {
		lostAt = Date.now();
	});
	await vi.advanceTimersByTimeAsync(ms);
	stop();
	return lostAt;
}

describe("keepLeases (on fake timers)", () => {
	beforeEach(() => {
		vi.useFakeTimers();
	});
	afterEach(() => {
		vi.useRealTimers();
	});

	it("renews a third of the way into each lease, so the lease never runs out while renewals succeed", async () => {
		const lease = new FakeLease(["renewed"]);
		const start = Date.now();
		expect(await run(lease, 4 * HOLD_MS)).toBeNull();
		expect(lease.renewals.length).toBeGreaterThanOrEqual(8);
		let previous = start;
		for (const at of lease.renewals) {
			expect(at - previous).toBeLessThan(HOLD_MS);
			previous = at;
		}
	});

	it("retries an unanswered renewal, and gives up before the lease could expire", async () => {
		const lease = new FakeLease(["unavailable"]);
		const lostAt = await run(lease, 2 * HOLD_MS);
		expect(lostAt).not.toBeNull();
		expect(lostAt ?? Number.POSITIVE_INFINITY).toBeLessThan(lease.expiresBy);
		expect(lease.renewals.length).toBeGreaterThan(1);
	});

	it("treats a renewal that never answers as unanswered", async () => {
		const lease = new FakeLease(["hang"]);
		const lostAt = await run(lease, 2 * HOLD_MS);
		expect(lostAt).not.toBeNull();
		expect(lostAt ?? Number.POSITIVE_INFINITY).toBeLessThan(lease.expiresBy);
	});

	it("keeps going after a failed renewal that a later one makes good", async () => {
		const lease = new FakeLease(["renewed", "unavailable", "renewed"]);
		expect(await run(lease, 3 * HOLD_MS)).toBeNull();
		expect(lease.renewals.length).toBeGreaterThanOrEqual(5);
	});

	it("reports a lost lease at once, and renews nothing after that", async () => {
		const lease = new FakeLease(["lost"]);
		const lostAt = await run(lease, 2 * HOLD_MS);
		expect(lostAt).not.toBeNull();
		expect(lease.renewals).toHaveLength(1);
	});

	it("stops renewing when told to", async () => {
		const lease = new FakeLease(["renewed"]);
		const stop = keepLeases(lease, HOLD_MS, () => undefined);
		stop();
		await vi.advanceTimersByTimeAsync(HOLD_MS);
		expect(lease.renewals).toHaveLength(0);
	});
});
