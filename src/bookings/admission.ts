import { BOOKING_ERRORS, BookingError } from './errors';

/**
 * Admission of booking creations: the work an HTTP server lets into Temporal and the store at once is bounded, so
 * that a burst past capacity is told "try again" at once instead of piling up until everything waits out its
 * deadline (and the platform's retries pile on: the collapse the load issue measured).
 *
 * - at most `inFlight` creations run at once;
 * - past that, up to `queued` wait, each for at most `queueWaitMs`, for one to finish; any more, or one that waited
 *   that long, is refused (`Overloaded`), so a refusal comes within `queueWaitMs`;
 * - a creation for a booking already under way joins it rather than starting again (the platform retrying);
 * - one whose caller has gone while it waited is dropped before it starts.
 */
export class Overloaded extends BookingError {
  override name = 'Overloaded';
  constructor(readonly retryAfterSeconds: number) {
    super('overloaded', 'the booking service is at capacity, try again');
  }
}

export interface AdmissionLimits {
  inFlight: number;
  queued: number;
  queueWaitMs: number;
}

// A refusal must come back within 1 s of the request (the load issue's target) on a machine whose CPU the burst
// saturates: the overload benchmark measured 1,020 ms for the slowest one with 500 ms here, half of it spent
// outside the queue. 250 ms leaves the rest room.
export const ADMISSION_DEFAULTS: AdmissionLimits = { inFlight: 32, queued: 64, queueWaitMs: 250 };

interface Waiter {
  start: () => void;
  refuse: (error: Error) => void;
}

export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly underWay = new Map<string, Promise<unknown>>();

  constructor(private readonly limits: AdmissionLimits = ADMISSION_DEFAULTS) {}

  /** How many run and how many wait, now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
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
    const admitted = this.slot(signal).then(() => work().finally(() => this.release()));
    this.underWay.set(key, admitted);
    try {
      return { value: await admitted, joined: false };
    } finally {
      this.underWay.delete(key);
    }
  }

  private slot(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < this.limits.inFlight) {
      this.running += 1;
      return Promise.resolve();
    }
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

  private release(): void {
    this.running -= 1;
    this.waiting[0]?.start();
  }

  private overloaded(): Overloaded {
    return new Overloaded(BOOKING_ERRORS.overloaded.retryAfterSeconds);
  }
}
