import type { Client } from '@temporalio/client';
import { register as defaultRegistry, type Registry } from 'prom-client';
import type { OperationsView } from '../store/operationsView';
import { BookingActivity, type MinuteCount, type NumberSyncRuns } from './bookingActivity';
import { CallMetricsReader, type CallActionFigures } from './callMetrics';
import { bookingCounts, poolHeadroom, type CountryHeadroom } from './poolSummary';

/**
 * How long 8x8 waits for a call-action answer. 8x8 publishes no figure; peers publish 5 s (Vonage, Sinch) and
 * Twilio 15 s, so the dashboard holds the p95 against the strictest published one.
 */
export const CALL_ACTION_BUDGET_SECONDS = 5;
/** The creations sparkline's span. */
export const CREATION_MINUTES = 15;

/** What an operator reads at a glance (GET /v1/operations/summary, the dashboard, `maskline pool`). */
export interface OperationsSummary {
  generatedAt: string;
  pool: { countries: CountryHeadroom[] };
  bookings: {
    active: number;
    completing: number;
    /** From Temporal's visibility; null while Temporal does not answer. */
    createdPerMinute: MinuteCount[] | null;
    refusedLastHour: number | null;
  };
  callActions: CallActionFigures & { budgetSeconds: number; storeTimeoutSeconds: number };
  callEvents: { pending: number };
  numberSync: NumberSyncRuns | null;
}

export interface OperationsSummaryOptions {
  view: OperationsView;
  temporal: Client;
  taskQueue: string;
  storeTimeoutMs: number;
  /** Where the call-action metrics are registered (the HTTP server's metrics registry). */
  registry?: Registry;
  /** How long one summary is served before the store and Temporal are read again. */
  maxAgeMs?: number;
  onTemporalError?: (error: unknown) => void;
}

/**
 * Computes the summary at most once per `maxAgeMs`, however many dashboards poll: concurrent requests share one
 * computation, and each computation reads the pool once, the holding pairings once per status and the pending
 * call events once (equality filters), plus a few counts from Temporal's visibility.
 */
export class OperationsSummaryService {
  private readonly activity: BookingActivity;
  private readonly calls: CallMetricsReader;
  private cached: { at: number; summary: Promise<OperationsSummary> } | null = null;

  constructor(private readonly options: OperationsSummaryOptions) {
    this.activity = new BookingActivity(options.temporal, options.taskQueue);
    this.calls = new CallMetricsReader(options.registry ?? defaultRegistry);
  }

  summary(now = Date.now()): Promise<OperationsSummary> {
    if (this.cached && now - this.cached.at < (this.options.maxAgeMs ?? 3_000)) return this.cached.summary;
    const summary = this.compute(now);
    this.cached = { at: now, summary };
    // A failed computation is not served again.
    summary.catch(() => {
      if (this.cached?.summary === summary) this.cached = null;
    });
    return summary;
  }

  private async compute(now: number): Promise<OperationsSummary> {
    const { view } = this.options;
    const fromTemporal = <T>(read: Promise<T>): Promise<T | null> =>
      read.catch((error: unknown) => {
        this.options.onTemporalError?.(error);
        return null;
      });
    const [numbers, leases, pending, createdPerMinute, refusedLastHour, numberSync, calls] = await Promise.all([
      view.poolNumbers(),
      view.holdingLeases(),
      view.pendingCallEvents(),
      fromTemporal(this.activity.createdPerMinute(CREATION_MINUTES, now)),
      fromTemporal(this.activity.refusedLastHour(now)),
      fromTemporal(this.activity.numberSyncRuns()),
      this.calls.read(now),
    ]);
    return {
      generatedAt: new Date(now).toISOString(),
      pool: { countries: poolHeadroom(numbers, leases) },
      bookings: { ...bookingCounts(leases), createdPerMinute, refusedLastHour },
      callActions: {
        ...calls,
        budgetSeconds: CALL_ACTION_BUDGET_SECONDS,
        storeTimeoutSeconds: this.options.storeTimeoutMs / 1000,
      },
      callEvents: { pending },
      numberSync,
    };
  }
}
