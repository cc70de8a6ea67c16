import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  STORE_FIGURES_DEFAULTS,
  StoreFiguresReader,
  type StoreFigureSource,
  type StoreFiguresSettings,
} from './storeFigures';

/**
 * The metrics of a Maskline process, on one registry per process (`GET /metrics` of the HTTP server, the worker's
 * metrics port). Every metric is defined here, so that the names an operator's dashboards and alerts read are in
 * one place; each process fills in the ones of the code it runs and leaves the others at zero.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

export type CallActionOutcome = 'connected' | 'menu' | 'pin_prompt' | 'notice' | 'store_timeout' | 'invalid';

// 8x8 waits a few seconds for a call action's answer; the store lookup is bounded by MASKLINE_CALL_ACTION_TIMEOUT_MS.
const CALL_ACTION_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5];

export const callActionDuration = new Histogram({
  name: 'maskline_call_action_duration_seconds',
  help:
    "Time to answer 8x8's call action (CALL_RECEIVED, and a PIN prompt's follow-up), by outcome: connected, notice, " +
    'pin_prompt (the caller is asked for a PIN), store_timeout, invalid',
  labelNames: ['outcome'] as const,
  buckets: CALL_ACTION_BUCKETS,
  registers: [metricsRegistry],
});

export const callActions = new Counter({
  name: 'maskline_call_actions_total',
  help:
    "8x8's call actions (CALL_RECEIVED, and a PIN prompt's follow-up) answered, by outcome: connected, notice, " +
    'pin_prompt (the caller is asked for a PIN), store_timeout, invalid',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

let callActionsRecorded = true;

/**
 * MASKLINE_METRICS_ENABLED=false: the call-action path records nothing (its metrics stay at zero), for the
 * benchmark that measures what recording costs there. Everything else records as usual.
 */
export function recordCallActions(on: boolean): void {
  callActionsRecorded = on;
}

/** Counts and times one call action; `startedAt` from process.hrtime.bigint(). */
export function observeCallAction(outcome: CallActionOutcome, startedAt: bigint): void {
  if (!callActionsRecorded) return;
  callActions.inc({ outcome });
  callActionDuration.observe({ outcome }, Number(process.hrtime.bigint() - startedAt) / 1e9);
}

export const bookingCreations = new Counter({
  name: 'maskline_booking_creations_total',
  help:
    'POST /v1/bookings answered, by result: created, replayed (a repeat of an existing booking), the error code ' +
    'of a refusal (booking_conflict, no_number_available, overloaded, temporal_unavailable, ...), invalid, error',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

export const bookingCreationDuration = new Histogram({
  name: 'maskline_booking_creation_duration_seconds',
  help: 'Time to answer POST /v1/bookings, whatever the result',
  buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [metricsRegistry],
});

export const creationLimit = new Gauge({
  name: 'maskline_booking_creation_limit',
  help: 'Booking creations this HTTP server lets run at once: MASKLINE_CREATIONS_IN_FLIGHT, lower while they are slow',
  registers: [metricsRegistry],
});

export const webhookRefusals = new Counter({
  name: 'maskline_webhook_refusals_total',
  help: '8x8 webhook requests refused by route and status: 401 (missing or wrong secret), 403 (source off the list)',
  labelNames: ['route', 'status'] as const,
  registers: [metricsRegistry],
});

export const callEventsRedelivered = new Counter({
  name: 'maskline_call_events_redelivered_total',
  help: 'Call events stored while their booking could not be told, delivered to it later by the redelivery',
  registers: [metricsRegistry],
});

/** What the HTTP server reads from the store (in the background) and from Temporal's reachability. */
export interface ServiceFigures extends StoreFigureSource {
  temporalReachable(): boolean;
}

let figuresSource: ServiceFigures | null = null;
let storeFigures: StoreFiguresReader | null = null;

/**
 * The HTTP server's figures. One source per process (the last registered): a process runs one HTTP application;
 * the tests that make several scrape the one they made last. Its store figures are read in the background from
 * the first scrape on (src/metrics/storeFigures.ts); returns the way to stop.
 */
export function observeServiceFigures(
  source: ServiceFigures,
  settings: StoreFiguresSettings = STORE_FIGURES_DEFAULTS,
  onError?: (error: unknown) => void,
): () => void {
  storeFigures?.stop();
  figuresSource = source;
  const reader = new StoreFiguresReader(source, settings, onError);
  storeFigures = reader;
  return () => {
    reader.stop();
    if (figuresSource !== source) return;
    figuresSource = null;
    storeFigures = null;
  };
}

/**
 * The last store figures read, or null before the first read has ended (the gauges then have no value). The reads
 * start with the first scrape: a process nobody scrapes reads nothing.
 */
function currentStoreFigures() {
  return storeFigures?.start().latest() ?? null;
}

export const poolNumbers = new Gauge({
  name: 'maskline_pool_numbers',
  help: "Virtual numbers of the pool by status (active, draining, disabled, ...) and country ('' when unknown)",
  labelNames: ['status', 'country'] as const,
  registers: [metricsRegistry],
  collect() {
    const figures = currentStoreFigures();
    if (!figures) return;
    this.reset();
    for (const { status, country, count } of figures.pool) this.set({ status, country }, count);
  },
});

export const poolLiveBookings = new Gauge({
  name: 'maskline_pool_live_bookings',
  help: 'Bookings holding a virtual number (active or completing)',
  registers: [metricsRegistry],
  collect() {
    const figures = currentStoreFigures();
    if (figures) this.set(figures.live);
  },
});

export const callEventsPending = new Gauge({
  name: 'maskline_call_events_pending',
  help: 'Call events stored and not yet delivered to their booking (Temporal unreachable, or refused them)',
  registers: [metricsRegistry],
  collect() {
    const figures = currentStoreFigures();
    if (figures) this.set(figures.events);
  },
});

export const storeFiguresAge = new Gauge({
  name: 'maskline_store_figures_age_seconds',
  help:
    'Age of the store figures (pool numbers, live bookings, pending call events): they are read in the background, ' +
    'one read at a time, every 15 s or less often when a read is slow',
  registers: [metricsRegistry],
  collect() {
    const figures = currentStoreFigures();
    if (figures) this.set((Date.now() - figures.readAt) / 1000);
  },
});

export const storeFiguresReadDuration = new Gauge({
  name: 'maskline_store_figures_read_seconds',
  help: 'How long the last read of the store figures took (a slow one spaces the next out)',
  registers: [metricsRegistry],
  collect() {
    const figures = currentStoreFigures();
    if (figures) this.set(figures.tookMs / 1000);
  },
});

export const temporalReachable = new Gauge({
  name: 'maskline_temporal_reachable',
  help: 'Whether the HTTP server reaches Temporal (1) or answers bookings 503 at once because it does not (0)',
  registers: [metricsRegistry],
  collect() {
    if (figuresSource) this.set(figuresSource.temporalReachable() ? 1 : 0);
  },
});

// The worker's.

export const allocationAttempts = new Counter({
  name: 'maskline_allocation_attempts_total',
  help: 'Attempts of the allocation activity by result: allocated, refused (no number free), contention, error',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

export const allocationDuration = new Histogram({
  name: 'maskline_allocation_duration_seconds',
  help: 'Time of one attempt of the allocation activity, whatever its result',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const allocationContention = new Counter({
  name: 'maskline_allocation_contention_total',
  help: 'Allocation attempts that gave up on claims lost to concurrent bookings of the same people (retried)',
  registers: [metricsRegistry],
});

export const numberSyncRuns = new Counter({
  name: 'maskline_number_sync_runs_total',
  help: "Runs of the 8x8 number sync activity (worker) by result: success, or the failure's type",
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

export const numberSyncChanges = new Counter({
  name: 'maskline_number_sync_changes_total',
  help: 'Pool changes the 8x8 number sync made, by change: added, disabled, active, draining, not_added, skipped',
  labelNames: ['change'] as const,
  registers: [metricsRegistry],
});

export const numberSyncLastSuccess = new Gauge({
  name: 'maskline_number_sync_last_success_timestamp_seconds',
  help: 'When the 8x8 number sync last succeeded in this worker process (Unix seconds; 0: not since it started)',
  registers: [metricsRegistry],
});
