import { BOOKING_ERRORS, BookingError } from './errors';

/**
 * Admission of booking creations: the work an HTTP server lets into Temporal and the store at once is bounded, so
 * that a burst past capacity is told "try again" at once instead of piling up until everything waits out its
 * deadline (and the platform's retries pile on: the collapse the load issue measured).
 *
 * - at most `limit` creations run at once: `inFlight` to start with, less while they are slow (below);
 * - past that, up to `queued` wait, each for at most `queueWaitMs`, for one to finish; any more, or one that waited
 *   that long, is refused (`Overloaded`), so a refusal comes within `queueWaitMs`;
 * - a creation for a booking already under way joins it rather than starting again (the platform retrying);
 * - one whose caller has gone while it waited is dropped before it starts.
 *
 * The limit follows the creations' latency (additive increase, multiplicative decrease, as TCP and Netflix's
 * concurrency-limits do): when the creations that ended in a span of `latencyTargetMs` took longer than that at the
 * median, it is cut by a quarter, down to `minInFlight`; each faster creation grows it back by 1/limit, up to
 * `inFlight`. A static limit is right
 * for one machine at one speed only: the overload benchmark on a machine slowed to a third by other work had 32
 * creations in flight at 6 a second, 5 s each, and the slowest were answered 503 at their 10 s deadline instead of
 * being refused at once. With the limit at about rate x target, admitted creations finish within the target and the
 * rest are refused within `queueWaitMs`; the rate itself does not fall, the machine being the bottleneck.
 */
export class Overloaded extends BookingError {
  override name = 'Overloaded';
  constructor(readonly retryAfterSeconds: number) {
    super('overloaded', 'the booking service is at capacity, try again');
  }
}

export interface AdmissionLimits {
  /** The most creations at once, and the limit's start. */
  inFlight: number;
  queued: number;
  queueWaitMs: number;
  /** A creation slower than this lowers the limit; unset or 0: the limit stays at `inFlight`. */
  latencyTargetMs?: number;
  /** The limit never goes below this. */
  minInFlight?: number;
}

// A refusal must come back within 1 s of the request (the load issue's target) on a machine whose CPU the burst
// saturates: the overload benchmark measured 1,020 ms for the slowest one with 500 ms here, half of it spent
// outside the queue. 250 ms leaves the rest room.
export const ADMISSION_DEFAULTS: Required<AdmissionLimits> = {
  inFlight: 32,
  queued: 64,
  queueWaitMs: 250,
  // Well inside the 10 s a creation may take before it is answered 503: what is admitted is answered in time.
  latencyTargetMs: 2_000,
  // Half the most: a creation slow by itself (FerretDB reading a merchant's 1,000 claims takes seconds at any load)
  // is not shed below what its clients need. With a floor of 4 the merchant's PIN-fallback benchmark had 143 of
  // its 500 bookings still refused after 5 tries; 16 at 6 a second is under 3 s each, inside the deadline.
  minInFlight: 16,
};

/** Fewer creations than this in a span are too few to judge the load by. */
const MIN_SPAN_SAMPLES = 4;

/** The lower median: above the target only when more than half are. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

interface Waiter {
  start: () => void;
  refuse: (error: Error) => void;
}

export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly underWay = new Map<string, Promise<unknown>>();
  private limit: number;
  /** How long the creations that ended since `spanStart` took. */
  private recent: number[] = [];
  private spanStart = 0;
  /** The most creations that ran at once in this span, and whether one had to wait for a slot. */
  private spanPeak = 0;
  private spanWaited = false;

  constructor(
    private readonly limits: AdmissionLimits = ADMISSION_DEFAULTS,
    private readonly options: { now?: () => number; onLimit?: (limit: number) => void } = {},
  ) {
    this.limit = limits.inFlight;
    this.spanStart = this.now();
  }

  /** How many run and how many wait, now, and how many may run. */
  get load(): { running: number; waiting: number; limit: number } {
    return { running: this.running, waiting: this.waiting.length, limit: Math.floor(this.limit) };
  }

  /**
   * Runs `work` for `key` when there is room. A call for a key already under way gets that call's outcome,
   * `{ joined: true }` telling it so. Throws Overloaded when there is no room in time, or `signal`'s reason when the
   * caller went away while waiting.
   */
  async run<T>(key: string, work: () => Promise<T>, signal?: AbortSignal): Promise<{ value: T; joined: boolean }> {
    const underWay = this.underWay.get(key) as Promise<T> | undefined;
    if (underWay) return { value: await underWay, joined: true };
    // Registered before it waits for a slot, so that a repeat arriving meanwhile joins it.
    const admitted = this.slot(signal).then(() => {
      const startedAt = this.now();
      return work().finally(() => this.release(this.now() - startedAt));
    });
    this.underWay.set(key, admitted);
    try {
      return { value: await admitted, joined: false };
    } finally {
      this.underWay.delete(key);
    }
  }

  private slot(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < Math.floor(this.limit)) {
      this.running += 1;
      this.spanPeak = Math.max(this.spanPeak, this.running);
      return Promise.resolve();
    }
    this.spanWaited = true;
    if (this.waiting.length >= this.limits.queued) return Promise.reject(this.overloaded());
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', gone);
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
      };
      const waiter: Waiter = {
        start: () => {
          leave();
          this.running += 1;
          this.spanPeak = Math.max(this.spanPeak, this.running);
          resolve();
        },
        refuse: (error) => {
          leave();
          reject(error);
        },
      };
      const timer = setTimeout(() => waiter.refuse(this.overloaded()), this.limits.queueWaitMs);
      const gone = () => waiter.refuse(signal?.reason instanceof Error ? signal.reason : new Error('caller gone'));
      signal?.addEventListener('abort', gone, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(tookMs: number): void {
    this.running -= 1;
    this.adapt(tookMs);
    while (this.waiting.length > 0 && this.running < Math.floor(this.limit)) this.waiting[0]!.start();
  }

  private adapt(tookMs: number): void {
    const target = this.limits.latencyTargetMs ?? 0;
    if (target <= 0) return;
    const before = Math.floor(this.limit);
    const now = this.now();
    if (tookMs <= target) this.limit = Math.min(this.limits.inFlight, this.limit + 1 / this.limit);
    // The cut is judged on the median of a span's creations, not on one: one slow creation among fast ones (a
    // pause of the store, a garbage collection) says nothing of the load, and cutting on it took a loaded run's
    // limit to its floor, and its rate with it.
    this.recent.push(tookMs);
    if (now - this.spanStart >= target && this.recent.length >= MIN_SPAN_SAMPLES) {
      // Not below what the span ran when nothing waited: all that was asked was running, so a lower limit would
      // only turn slow answers into refusals and retries. A cold start did that in the no-contention benchmark:
      // its first creations are slow, and the limit fell below its 20 clients.
      const demand = this.spanWaited ? 0 : this.spanPeak;
      if (median(this.recent) > target) {
        this.limit = Math.min(this.limit, Math.max(this.limits.minInFlight ?? 1, demand, this.limit * 0.75));
      }
      this.recent = [];
      this.spanStart = now;
      this.spanPeak = this.running;
      this.spanWaited = this.waiting.length > 0;
    }
    if (Math.floor(this.limit) !== before) this.options.onLimit?.(Math.floor(this.limit));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private overloaded(): Overloaded {
    return new Overloaded(BOOKING_ERRORS.overloaded.retryAfterSeconds);
  }
}
