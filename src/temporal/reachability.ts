/**
 * Whether Temporal can be reached, so that while it is down the booking platform hears "try again" at once
 * instead of after each request's full deadline, and 8x8's call events are stored for later without waiting.
 *
 * A request that fails as "Temporal unavailable", or is still unanswered after a while, makes us ask Temporal
 * directly (a cheap system-info call): a slow or timed-out update may only mean that no worker ran it, so only an
 * unanswered ping marks Temporal down, which also abandons the calls still waiting (`onDown`). While it is down,
 * the ping repeats every `probeEveryMs`, and the first answer marks it up again.
 */
export class TemporalReachability {
  private down = false;
  private checking = false;
  private probe: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly downListeners = new Set<() => void>();

  constructor(
    private readonly ping: () => Promise<boolean>,
    private readonly options: { probeEveryMs?: number; onChange?: (reachable: boolean) => void } = {},
  ) {}

  get reachable(): boolean {
    return !this.down;
  }

  /** A call failed as if Temporal were unreachable: check, and if so, answer at once until it is back. */
  suspect(): void {
    if (this.down || this.checking || this.closed) return;
    this.checking = true;
    void this.answers()
      .then((answered) => {
        if (!answered) this.markDown();
      })
      .finally(() => {
        this.checking = false;
      });
  }

  /** Calls `listener` when Temporal is found down; returns the way to stop listening. */
  onDown(listener: () => void): () => void {
    this.downListeners.add(listener);
    return () => this.downListeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.probe) clearTimeout(this.probe);
    this.probe = null;
  }

  private answers(): Promise<boolean> {
    return this.ping().catch(() => false);
  }

  private markDown(): void {
    if (this.down || this.closed) return;
    this.down = true;
    for (const listener of [...this.downListeners]) listener();
    this.options.onChange?.(false);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.closed) return;
    this.probe = setTimeout(() => {
      void this.answers().then((answered) => {
        if (this.closed) return;
        if (!answered) return this.scheduleProbe();
        this.down = false;
        this.probe = null;
        this.options.onChange?.(true);
      });
    }, this.options.probeEveryMs ?? 1_000);
    // The probe never keeps a process alive that is otherwise done.
    this.probe.unref();
  }
}
