// A route's adaptive limit inside its Durable Object: fed by the samples releases carry, kept in storage, logged
// when it moves by more than a fifth.
import type { ExchangeSample, Outcome } from "../adaptive/sample.ts";
import { isDrop, OUTCOMES } from "../adaptive/sample.ts";
import type { AdaptiveSettings } from "../adaptive/settings.ts";
import { MIN_WINDOW_SAMPLES } from "../adaptive/settings.ts";
import type { VegasPhase, VegasState } from "../adaptive/vegas-limit.ts";
import { VegasLimit } from "../adaptive/vegas-limit.ts";
import { WindowedLimit } from "../adaptive/windowed-limit.ts";
import { logSampled } from "../log.ts";

/** A change of the learned limit by more than this share of the last one logged makes a log line. */
export const LOG_CHANGE_FRACTION = 0.2;

export interface AdaptiveStatus {
	/** The limit the algorithm puts in force: its learned limit, or `min` while it measures the baseline. */
	readonly limit: number;
	readonly learned: number;
	readonly min: number;
	readonly max: number;
	readonly phase: VegasPhase;
	/** The no-load latency (the median at the floor), and the last window's median, in ms. */
	readonly baselineMs: number | null;
	readonly recentMs: number | null;
	/** Requests the algorithm estimates were waiting inside the origin in the last window. */
	readonly queue: number | null;
	/** Samples received, by how the exchange ended. */
	readonly outcomes: Record<Outcome, number>;
}

export class AdaptiveGauge {
	private readonly sql: SqlStorage;
	private readonly name: string;
	private settings: AdaptiveSettings | null = null;
	private vegas: VegasLimit | null = null;
	private windowed: WindowedLimit | null = null;
	private saved: VegasState | null = null;
	private lastLogged: number | null = null;
	private readonly outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;

	constructor(sql: SqlStorage, name: string) {
		this.sql = sql;
		this.name = name;
		sql.exec(
			"CREATE TABLE IF NOT EXISTS adaptive (id INTEGER PRIMARY KEY CHECK (id = 1), estimate REAL, baseline_ms REAL, measured_at INTEGER)",
		);
	}

	/**
	 * Every acquire on an adaptive route carries its settings; a fixed route's carry none. New settings (a deploy,
	 * or the first call after a restart) start the algorithm from what storage kept, within the new bounds.
	 */
	configure(settings: AdaptiveSettings | undefined): void {
		// A caller without settings (a fixed config, e.g. an old isolate during a rollout to adaptive) leaves the
		// learner as it is: its requests ignore the learned limit (Gauge.learnedLimit), and the adaptive config's
		// next request must not find the learning thrown away.
		if (!settings) return;
		if (this.settings && sameSettings(this.settings, settings)) return;
		this.settings = settings;
		const row = this.sql
			.exec<{ estimate: number; baseline_ms: number; measured_at: number }>("SELECT estimate, baseline_ms, measured_at FROM adaptive")
			.toArray()[0];
		this.saved = row ? { estimate: row.estimate, baselineMs: row.baseline_ms, measuredAt: row.measured_at } : null;
		this.vegas = new VegasLimit(settings, this.saved ?? undefined);
		this.windowed = new WindowedLimit(this.vegas, { windowMs: settings.windowMs, minSamples: MIN_WINDOW_SAMPLES });
		this.lastLogged = this.vegas.learned;
	}

	/** The limit in force, or null on a fixed route. */
	get limit(): number | null {
		return this.windowed?.limit ?? null;
	}

	/** One released exchange; `inflight` counts the permits held, its own included. */
	record(sample: ExchangeSample, inflight: number, now: number): void {
		this.outcomes[sample.outcome]++;
		const { vegas, windowed } = this;
		// A plain 5xx is the origin's answer, not a measure of its load: counted, not learned from.
		if (!vegas || !windowed || sample.outcome === "error") return;
		const rtt = Math.max(0, sample.rttMs);
		windowed.onSample(now - Math.max(rtt, sample.ageMs), rtt, inflight, isDrop(sample.outcome));
		const state = vegas.state;
		if (state && !sameState(state, this.saved)) this.save(state);
		const learned = vegas.learned;
		const last = this.lastLogged ?? learned;
		if (Math.abs(learned - last) > LOG_CHANGE_FRACTION * last) {
			this.lastLogged = learned;
			logSampled("limit_adapted", this.name, { gauge: this.name, from: last, to: learned, phase: vegas.phase, ...vegas.view }, now);
		}
	}

	status(): AdaptiveStatus | null {
		const { vegas, settings } = this;
		if (!vegas || !settings) return null;
		return {
			limit: vegas.limit,
			learned: vegas.learned,
			min: settings.min,
			max: settings.max,
			phase: vegas.phase,
			...vegas.view,
			outcomes: { ...this.outcomes },
		};
	}

	/** A synchronous write, at most once per window: a restarted object resumes where this one was. */
	private save(state: VegasState): void {
		this.sql.exec(
			"INSERT OR REPLACE INTO adaptive (id, estimate, baseline_ms, measured_at) VALUES (1, ?, ?, ?)",
			state.estimate,
			state.baselineMs,
			state.measuredAt,
		);
		this.saved = state;
	}
}

function sameSettings(a: AdaptiveSettings, b: AdaptiveSettings): boolean {
	return (Object.keys(a) as (keyof AdaptiveSettings)[]).every((k) => a[k] === b[k]);
}

function sameState(a: VegasState, b: VegasState | null): boolean {
	return b !== null && a.estimate === b.estimate && a.baselineMs === b.baselineMs && a.measuredAt === b.measuredAt;
}
