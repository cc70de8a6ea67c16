import type { Summary } from './measure';

/** What the load generator (bench/loadgen.ts) is asked to do and what it answers. */

export interface LoadSpec {
  url: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  /** Instead of autocannon's closed loop: requests at this even, open-loop pace (per second), `connections` unused. */
  ratePerSecond?: number;
  /** Upper bound on requests of the measured run, whatever the duration. */
  maxRequests: number;
  /** A run of the same load before the measured one, whose figures are thrown away. */
  warmupSeconds: number;
  /** A JSON file holding an array of request bodies, sent in turn. */
  bodiesFile?: string;
  /** Instead: a new booking for every request, ids starting with this prefix. */
  bookingPrefix?: string;
  /** How an answer is told apart: a call-action callflow, or a created booking. */
  answers: 'callflow' | 'booking';
}

export interface LoadResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** Over every answer, whatever its status. */
  latencyMs: Summary;
  /** Answers in each second of the run, to see whether the rate holds or decays. */
  perSecond: number[];
  statusCounts: Record<string, number>;
  non200: number;
  /** Connection errors and timeouts: requests that got no answer at all. */
  errors: number;
  timeouts: number;
  /** callflow: connected (makeCall) / notice (say + hangup); booking: withNumber (201 with a virtual number). */
  answerKinds: Record<string, number>;
}

/** Stands for the session id in call-action bodies; each request gets a new one, as every call is a new session. */
export const SESSION_ID = 'bench-session-id';
