import type { Registry } from 'prom-client';

/** The call-action figures of the summary, over the last few minutes; null where the metrics are not there. */
export interface CallActionFigures {
  /** The 95th percentile of the answer time in seconds, or null: no metric, or no call in the window. */
  p95Seconds: number | null;
  /** Share of call actions answered with the notice (no booking, or the store did not answer in time). */
  noticeRate: number | null;
  /** Call actions in the window by outcome (connected, notice, store_timeout, invalid); null without the metric. */
  outcomes: Record<string, number> | null;
  /** How many seconds of traffic the figures cover (since the oldest reading kept, at most the window). */
  windowSeconds: number;
}

export const CALL_ACTION_DURATION = 'maskline_call_action_duration_seconds';
export const CALL_ACTIONS_TOTAL = 'maskline_call_actions_total';
/** The outcomes whose caller hears the notice rather than the other party. */
const NOTICE_OUTCOMES = ['notice', 'store_timeout'];

interface Reading {
  at: number;
  /** Upper bound → cumulative count, summed over every label set. */
  buckets: Map<number, number> | null;
  outcomes: Map<string, number> | null;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
}

/**
 * Reads the call-action metrics from a prom-client registry, when they are registered there (the HTTP server's
 * own metrics register them), and turns the counters since the process started into figures over a window:
 * each reading is kept for `windowMs`, and the figures are the difference between now and the oldest reading.
 */
export class CallMetricsReader {
  private readings: Reading[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly windowMs = 5 * 60_000,
  ) {}

  async read(now = Date.now()): Promise<CallActionFigures> {
    const current: Reading = {
      at: now,
      buckets: await this.histogramBuckets(),
      outcomes: await this.outcomeCounts(),
    };
    this.readings = this.readings.filter((reading) => reading.at >= now - this.windowMs);
    const oldest = this.readings[0];
    this.readings.push(current);
    const outcomes = current.outcomes && delta(current.outcomes, oldest?.outcomes ?? null);
    const total = outcomes ? [...outcomes.values()].reduce((sum, count) => sum + count, 0) : 0;
    const notices = outcomes ? NOTICE_OUTCOMES.reduce((sum, outcome) => sum + (outcomes.get(outcome) ?? 0), 0) : 0;
    return {
      p95Seconds: current.buckets ? quantile(0.95, delta(current.buckets, oldest?.buckets ?? null)) : null,
      noticeRate: outcomes && total > 0 ? notices / total : null,
      outcomes: outcomes ? Object.fromEntries(outcomes) : null,
      windowSeconds: Math.round((now - (oldest?.at ?? now)) / 1000),
    };
  }

  private async values(name: string): Promise<MetricValue[] | null> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return null;
    return (await metric.get()).values as MetricValue[];
  }

  private async histogramBuckets(): Promise<Map<number, number> | null> {
    const values = await this.values(CALL_ACTION_DURATION);
    if (!values) return null;
    const buckets = new Map<number, number>();
    for (const value of values) {
      if (value.metricName !== `${CALL_ACTION_DURATION}_bucket`) continue;
      const bound = value.labels.le === '+Inf' ? Infinity : Number(value.labels.le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value.value);
    }
    return buckets;
  }

  private async outcomeCounts(): Promise<Map<string, number> | null> {
    const values = await this.values(CALL_ACTIONS_TOTAL);
    if (!values) return null;
    const counts = new Map<string, number>();
    for (const value of values) {
      const outcome = String(value.labels.outcome ?? 'unknown');
      counts.set(outcome, (counts.get(outcome) ?? 0) + value.value);
    }
    return counts;
  }
}

function delta<K>(now: Map<K, number>, before: Map<K, number> | null): Map<K, number> {
  // A counter that went down was reset (the metric registered anew): count from zero then.
  return new Map(
    [...now].map(([key, count]) => {
      const earlier = before?.get(key) ?? 0;
      return [key, count >= earlier ? count - earlier : count];
    }),
  );
}

/**
 * A quantile from cumulative histogram buckets, interpolated within the bucket as Prometheus'
 * histogram_quantile does; null when the buckets count nothing. Past the highest finite bound, that bound.
 */
export function quantile(q: number, cumulative: ReadonlyMap<number, number>): number | null {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? Math.max(0, ...cumulative.values());
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bound of bounds) {
    const count = cumulative.get(bound) ?? 0;
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket === 0 ? bound : lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
