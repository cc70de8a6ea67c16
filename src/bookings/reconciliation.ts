import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Holder } from '../domain/allocation';
import type { MongoAllocationStore } from '../store/allocationStore';
import type { Holdings } from '../store/holdings';
import { bookingWorkflowId } from './contract';

/**
 * The safety net under "a number taken is always given back": a booking run that was terminated by an operator,
 * or whose history was lost, cannot release what it holds, and a late attempt of a run may write after the run's
 * own release. A pass finds such holdings and gives them back; it never touches what a running run holds.
 *
 * It scales with one streamed read of the leases and one of the claims, and one paged visibility listing of the
 * running booking workflows; only the holders that listing cannot vouch for (not listed, or listed with a start
 * that is not theirs: visibility lags a run that has just started, and lists a continued run by its own start) are
 * described one by one, a few at a time.
 */
export interface ReconciliationOptions {
  /** Task queue of this deployment's booking workflows: only those are listed. */
  taskQueue: string;
  /** A released lease is kept as a marker against late attempts of its run for this long, then deleted. */
  releasedMarkerMs: number;
  /** A claim of a run whose lease names another number is a late attempt's leftover once this old. */
  strayClaimMs: number;
  /** Describes in flight at once. */
  describeConcurrency: number;
  heartbeat?: (progress: string) => void;
}

export const RECONCILIATION_DEFAULTS: Omit<ReconciliationOptions, 'taskQueue'> = {
  releasedMarkerMs: 10 * 60_000,
  strayClaimMs: 60_000,
  describeConcurrency: 16,
};

export interface ReconciliationReport {
  /** Booking runs found holding something. */
  checked: number;
  /** Of those, runs that no longer run, whose holdings were given back. */
  orphaned: number;
  released: string[];
  /** Claims left by late attempts of running runs, given back. */
  strayClaims: number;
  /** Released-lease markers old enough to go, deleted. */
  markersRemoved: number;
  /** Runs the visibility listing could not vouch for, asked about one by one. */
  described: number;
  seconds: number;
}

interface Logger {
  info(message: string, meta?: Record<string, unknown>): void;
}

export async function reconcilePairings(
  deps: {
    holdings: Pick<Holdings, 'byRun' | 'giveBackStrayClaims'>;
    allocations: Pick<MongoAllocationStore, 'giveBackClaims' | 'releaseRun'>;
    temporal: Client;
    log: Logger;
  },
  options: Partial<ReconciliationOptions> & Pick<ReconciliationOptions, 'taskQueue'>,
): Promise<ReconciliationReport> {
  const settings = { ...RECONCILIATION_DEFAULTS, ...options };
  const started = Date.now();
  const heartbeat = settings.heartbeat ?? (() => {});
  // Listed first: a run listed as running before its holdings are read cannot be mistaken for an orphan, and one
  // that starts in between is described before anything of it is given back.
  const running = await runningBookings(deps.temporal, settings.taskQueue, heartbeat);
  const holdings = await deps.holdings.byRun((count) => heartbeat(`read ${count} holdings`));

  const report: ReconciliationReport = {
    checked: holdings.length,
    orphaned: 0,
    released: [],
    strayClaims: 0,
    markersRemoved: 0,
    described: 0,
    seconds: 0,
  };
  const now = Date.now();
  const unvouched: typeof holdings = [];
  for (const holding of holdings) {
    const listedStart = running.get(holding.holder.bookingId);
    // A run written before holders carried their run is vouched for by its bookingId alone.
    if (listedStart !== undefined && (listedStart === holding.holder.runStartedAt || holding.holder.run === '')) {
      report.strayClaims += await deps.holdings.giveBackStrayClaims(holding, now - settings.strayClaimMs);
    } else {
      unvouched.push(holding);
    }
  }

  await inParallel(unvouched, settings.describeConcurrency, async (holding) => {
    report.described += 1;
    if (await isRunning(deps.temporal, holding.holder)) {
      report.strayClaims += await deps.holdings.giveBackStrayClaims(holding, now - settings.strayClaimMs);
      return;
    }
    if (holding.lease?.released) {
      // A run that released and ended: what a late attempt of it claimed goes now, its marker once no late
      // attempt of it can be running any more.
      if (holding.claims.length > 0 || (holding.pins?.length ?? 0) > 0)
        report.strayClaims += await deps.allocations.giveBackClaims(holding.holder);
      if ((holding.lease.releasedAt ?? 0) < now - settings.releasedMarkerMs) {
        await deps.allocations.releaseRun(holding.holder);
        report.markersRemoved += 1;
      }
      return;
    }
    await deps.allocations.releaseRun(holding.holder);
    report.orphaned += 1;
    report.released.push(holding.holder.bookingId);
    heartbeat(`released ${report.orphaned}`);
  });

  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  deps.log.info('pairing reconciliation done', { ...report, released: report.released.length });
  return report;
}

/** Running booking workflows of this task queue: bookingId → the start of the run listed. */
async function runningBookings(
  temporal: Client,
  taskQueue: string,
  heartbeat: (progress: string) => void,
): Promise<Map<string, number>> {
  const running = new Map<string, number>();
  const query = `WorkflowType = 'bookingWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = ${JSON.stringify(taskQueue)}`;
  for await (const execution of temporal.workflow.list({ query, pageSize: 1000 })) {
    running.set(execution.workflowId.replace(/^booking-/, ''), execution.startTime.getTime());
    if (running.size % 1000 === 0) heartbeat(`listed ${running.size} running bookings`);
  }
  return running;
}

/** Whether the holder's run (its workflow chain) is the one running now: the authoritative answer. */
async function isRunning(temporal: Client, holder: Holder): Promise<boolean> {
  try {
    const description = await temporal.workflow.getHandle(bookingWorkflowId(holder.bookingId)).describe();
    if (description.status.name !== 'RUNNING') return false;
    const firstRunId = description.raw.workflowExecutionInfo?.firstRunId;
    return holder.run === '' || !firstRunId || firstRunId === holder.run;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}
