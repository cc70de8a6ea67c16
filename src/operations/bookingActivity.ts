import type { Client } from '@temporalio/client';
import { BookingStatusAttribute } from '../bookings/contract';

/** One minute of booking creations: the minute's start and how many bookings got a number in it. */
export interface MinuteCount {
  minute: string;
  count: number;
}

export interface NumberSyncRuns {
  /** When the last run of the number sync ended (or started, if it still runs), and how. */
  lastRunAt: string | null;
  lastRunStatus: string | null;
  /** When the last run that completed ended. */
  lastSuccessAt: string | null;
}

const DEADLINE_MS = 5_000;
/** Visibility is eventually consistent: a minute is counted again until it is this old, then kept. */
const SETTLED_AFTER_MS = 2 * 60_000;

/**
 * Booking creations, refusals and number-sync runs from Temporal's visibility, with the search attributes the
 * bookings already carry (BookingStatus) and Temporal's own (StartTime, WorkflowType, ExecutionStatus): a count
 * per minute rather than a list, so the cost does not grow with the traffic. Minutes that are over are counted
 * once and kept.
 */
export class BookingActivity {
  private settledMinutes = new Map<number, number>();

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Bookings that got a number (not refused), per minute, the last `minutes` minutes, the current one last. */
  async createdPerMinute(minutes: number, now = Date.now()): Promise<MinuteCount[]> {
    const current = Math.floor(now / 60_000) * 60_000;
    const starts = Array.from({ length: minutes }, (_, i) => current - (minutes - 1 - i) * 60_000);
    const counts = await Promise.all(
      starts.map(async (start) => {
        const kept = this.settledMinutes.get(start);
        if (kept !== undefined) return kept;
        const count = await this.count(
          `${this.bookings()} AND ${BookingStatusAttribute.name} != "refused" AND ${between(start, start + 60_000)}`,
        );
        if (start + 60_000 < now - SETTLED_AFTER_MS) this.settledMinutes.set(start, count);
        return count;
      }),
    );
    for (const start of this.settledMinutes.keys()) if (start < starts[0]!) this.settledMinutes.delete(start);
    return starts.map((start, i) => ({ minute: new Date(start).toISOString(), count: counts[i] ?? 0 }));
  }

  /** Bookings refused a number that were asked for in the last hour. */
  async refusedLastHour(now = Date.now()): Promise<number> {
    return this.count(
      `${this.bookings()} AND ${BookingStatusAttribute.name} = "refused" AND StartTime >= "${new Date(now - 3_600_000).toISOString()}"`,
    );
  }

  async numberSyncRuns(): Promise<NumberSyncRuns> {
    const sync = `WorkflowType = "numberSyncWorkflow" AND TaskQueue = ${JSON.stringify(this.taskQueue)}`;
    const [last, lastSuccess] = await Promise.all([
      this.newest(sync),
      this.newest(`${sync} AND ExecutionStatus = "Completed"`),
    ]);
    return {
      lastRunAt: last ? (last.closeTime ?? last.startTime).toISOString() : null,
      lastRunStatus: last ? last.status.name.toLowerCase() : null,
      lastSuccessAt: lastSuccess?.closeTime?.toISOString() ?? null,
    };
  }

  private bookings(): string {
    return `WorkflowType = "bookingWorkflow" AND TaskQueue = ${JSON.stringify(this.taskQueue)}`;
  }

  private async count(query: string): Promise<number> {
    const answer = await this.client.withDeadline(Date.now() + DEADLINE_MS, () => this.client.workflow.count(query));
    return answer.count;
  }

  private async newest(query: string) {
    return this.client.withDeadline(Date.now() + DEADLINE_MS, async () => {
      for await (const execution of this.client.workflow.list({ query, pageSize: 1 })) return execution;
      return null;
    });
  }
}

function between(from: number, to: number): string {
  return `StartTime >= "${new Date(from).toISOString()}" AND StartTime < "${new Date(to).toISOString()}"`;
}
