/** What the HTTP server reads from the store for its gauges. */
export interface StoreFigureSource {
  /** Numbers of the pool by status and country ('' when unknown). */
  poolNumbers(): Promise<{ status: string; country: string; count: number }[]>;
  /** Bookings holding a number (active or completing). */
  liveBookings(): Promise<number>;
  /** Call events stored and not yet delivered to their booking. */
  pendingCallEvents(): Promise<number>;
}

export interface StoreFigures {
  pool: Awaited<ReturnType<StoreFigureSource['poolNumbers']>>;
  live: number;
  events: number;
  /** When the read that gave them ended (ms since the epoch). */
  readAt: number;
  /** How long that read took (ms). */
  tookMs: number;
}

export interface StoreFiguresSettings {
  /** The pause between the end of one read and the start of the next. */
  everyMs: number;
  /** The next read waits at least this many times the last one's duration, so the store spends at most 1/(1+n) on them. */
  backoffFactor: number;
}

export const STORE_FIGURES_DEFAULTS: StoreFiguresSettings = { everyMs: 15_000, backoffFactor: 9 };

/**
 * Reads the store figures in the background, one read at a time, and keeps the last ones for the scrapes. A scrape
 * never waits for the store: with 100,000 live bookings a count on FerretDB reads each lease, which took 11-26 s
 * under the call-action benchmark's load, past Prometheus's 10 s scrape timeout, and a scrape that starts a read per
 * scrape piles reads on a store that is already slow. The figures' age is a gauge of its own, so a stale figure is
 * seen as stale. A failed read keeps the last figures; the next read is tried on the same schedule.
 */
export class StoreFiguresReader {
  private figures: StoreFigures | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly source: StoreFigureSource,
    private readonly settings: StoreFiguresSettings = STORE_FIGURES_DEFAULTS,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  private started = false;

  /** Starts the first read now, once; later calls do nothing. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    this.readNow();
    return this;
  }

  /** The last figures read, or null before the first read has ended. */
  latest(): StoreFigures | null {
    return this.figures;
  }

  /** Stops reading; a read under way ends unseen. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Resolves when the read under way (if any) has ended: for tests and for shutting down cleanly. */
  async settled(): Promise<void> {
    await this.reading;
  }

  private readNow(): void {
    if (this.stopped || this.reading) return;
    const startedAt = Date.now();
    this.reading = Promise.all([
      this.source.poolNumbers(),
      this.source.liveBookings(),
      this.source.pendingCallEvents(),
    ]).then(
      ([pool, live, events]) => {
        this.figures = { pool, live, events, readAt: Date.now(), tookMs: Date.now() - startedAt };
      },
      (error: unknown) => this.onError(error),
    );
    void this.reading.finally(() => {
      this.reading = null;
      if (this.stopped) return;
      const took = Date.now() - startedAt;
      const pause = Math.max(this.settings.everyMs, took * this.settings.backoffFactor);
      this.timer = setTimeout(() => this.readNow(), pause);
      this.timer.unref();
    });
  }
}
