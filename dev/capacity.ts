// An origin's capacity, as a real server with a fixed pool of workers has one: at most `workers` requests are
// worked on at once, each for `workMs`; the rest wait their turn, first come first served, so latency grows past
// capacity. Both can change while it runs (a degraded origin, then a recovered one), and a share of requests can
// be shed with 503 at once, as an overloaded server's load shedder would.

export interface Capacity {
	/** Requests worked on at once. */
	workers: number;
	/** How long each one's work takes, ms. */
	workMs: number;
	/** Share of requests answered 503 at once instead of being worked on, 0 to 1. Default 0. */
	errorShare?: number;
}

export interface CapacityState extends Required<Capacity> {
	/** Being worked on now, and waiting for a worker. */
	working: number;
	waiting: number;
}

export class WorkerPool {
	private settings: Required<Capacity>;
	private working = 0;
	private readonly queue: (() => void)[] = [];
	/** Shares of an error owed: each request adds errorShare, and a whole one sheds that request (an exact share). */
	private debt = 0;

	constructor(capacity: Capacity) {
		this.settings = { errorShare: 0, ...capacity };
	}

	set(change: Partial<Capacity>): void {
		this.settings = { ...this.settings, ...change };
		if (change.errorShare !== undefined) this.debt = 0;
		this.wake();
	}

	state(): CapacityState {
		return { ...this.settings, working: this.working, waiting: this.queue.length };
	}

	/** True when this request is to be shed. */
	shed(): boolean {
		this.debt += this.settings.errorShare;
		if (this.debt < 1) return false;
		this.debt -= 1;
		return true;
	}

	/**
	 * Waits for a worker and holds it for workMs. `gone` says whether the client left meanwhile: its turn is then
	 * passed on at once rather than worked for nobody. Resolves true when the work was done.
	 */
	async work(gone: () => boolean): Promise<boolean> {
		await new Promise<void>((resolve) => {
			this.queue.push(resolve);
			this.wake();
		});
		try {
			if (gone()) return false;
			await new Promise((resolve) => setTimeout(resolve, this.settings.workMs));
			return true;
		} finally {
			this.working--;
			this.wake();
		}
	}

	private wake(): void {
		while (this.working < this.settings.workers && this.queue.length > 0) {
			this.working++;
			this.queue.shift()?.();
		}
	}
}
