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
  /**
   * Instead of autocannon: `connections` platform clients, each creating one booking at a time and retrying it as a
   * booking platform would (see BookingLanes). Per-booking records go to `recordsFile`.
   */
  lanes?: BookingLanes;
}

/** Booking clients that behave as a booking platform: one booking at a time each, its refusals retried. */
export interface BookingLanes {
  /** A JSON file holding an array of booking request bodies, each created once, in order; else fresh bookings. */
  bookingsFile?: string;
  /** Tries per booking (the first included), and the pause between them. */
  tries: number;
  retryDelayMs: number;
  /** Answers that are retried with the same bookingId; 0 stands for no answer at all. */
  retryStatuses: number[];
  /** How long a client waits for an answer before it counts as none. */
  requestTimeoutMs: number;
  /** Where each booking's record (every try, the final answer) is written, as JSON. */
  recordsFile: string;
  /** How long the bookings under way may take to finish once no new one is handed out (`durationSeconds`). */
  drainSeconds: number;
}

/** One try of a booking: its answer's status (0: none), error code, and how long it took. */
export interface BookingTry {
  status: number;
  code?: string;
  ms: number;
  /** When it was sent, ms after the run began. */
  at: number;
}

/** What became of one booking a lane created. */
export interface BookingRecord {
  bookingId: string;
  parties: { role: string; number: string }[];
  tries: BookingTry[];
  /** The last answer's status (0: none) and code; the number when it carried one. */
  status: number;
  code?: string;
  virtualNumber?: string;
  /** From the first try's start to the final answer, pauses between tries included. */
  totalMs: number;
  /** When the final answer came, ms after the run began. */
  finishedAt: number;
}

/** The summary a lanes run prints (the records are in the file). */
export interface LanesResult {
  bookings: number;
  /** Bookings whose final answer carried a number (201 or 200). */
  created: number;
  /** Of those, final answers that came within the measured window (all of them for a list of bookings). */
  createdInWindow: number;
  windowSeconds: number;
  durationSeconds: number;
  requests: number;
  retries: number;
  statusCounts: Record<string, number>;
  finalCounts: Record<string, number>;
  perRequestMs: Summary;
  perBookingMs: Summary;
  /** Every answer 503 or 429: how long it took to come back. */
  refusalMs: Summary;
  /** Created bookings per second of the run (by final answer). */
  perSecond: number[];
  /** The run stopped handing out bookings at its time bound with some of its list never tried. */
  stoppedAtTimeBound: boolean;
  /** Bookings still under way when the drain ran out: no record of theirs. */
  unfinished: number;
  /**
   * The load generator's own event-loop delay over the run (ms): it shares the cores, so a slow answer it times
   * may be a late read of its own.
   */
  eventLoopDelayMs: { p99: number; max: number };
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
  /**
   * At a steady rate: requests due, how many were sent late (the pace missed), how late, and each answer's time
   * from its due time rather than from its sending (what a caller of a late request waited).
   */
  pacing?: { scheduled: number; sentLate: number; sentLateAfterMs: number; lagMs: Summary; latencyFromDueMs: Summary };
}

/** Stands for the session id in call-action bodies; each request gets a new one, as every call is a new session. */
export const SESSION_ID = 'bench-session-id';
