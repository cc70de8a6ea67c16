import { Client, Connection } from '@temporalio/client';
import { reconcilePairings } from '../src/bookings/reconciliation';
import { connectDatabase, ensureIndexes, type ClaimDocument, type LeaseDocument } from '../src/store/database';
import { MongoAllocationStore } from '../src/store/allocationStore';
import { Holdings } from '../src/store/holdings';
import { bookingWorkflowId } from '../src/bookings/contract';
import { check, type Check } from './report';
import type { BenchStack } from './stack';

/**
 * Benchmark: one pass of the pairing reconciliation at scale. `liveBookings` booking workflows are started (on a
 * task queue no worker polls, so they stay running and cost nothing but their start) and their holdings written
 * to the store as their runs would have; `orphans` more holdings belong to runs that no longer exist. One pass
 * must release exactly the orphans, keep every live booking, and finish well inside the schedule's interval.
 */
export interface ReconciliationSettings {
  liveBookings: number;
  orphans: number;
  /** The schedule's interval the pass must fit in (MASKLINE_RECONCILE_INTERVAL's default). */
  intervalSeconds: number;
  startConcurrency: number;
}

export const RECONCILIATION_DEFAULTS: ReconciliationSettings = {
  liveBookings: 100_000,
  orphans: 200,
  intervalSeconds: 300,
  startConcurrency: 64,
};

export async function reconciliationBenchmark(
  stack: BenchStack,
  settings: ReconciliationSettings,
  say: (line: string) => void,
) {
  const taskQueue = `reconcile-bench-${Date.now().toString(36)}`;
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const temporal = new Client({ connection });
  const database = await connectDatabase(stack.mongodbUri('bench_reconciliation'));
  try {
    await database.db.dropDatabase();
    await ensureIndexes(database);

    let started = Date.now();
    const ids = Array.from({ length: settings.liveBookings }, (_, i) => `recon-${i}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: settings.startConcurrency }, async () => {
        while (next < ids.length) {
          const bookingId = ids[next++]!;
          await temporal.workflow.start('bookingWorkflow', {
            workflowId: bookingWorkflowId(bookingId),
            taskQueue,
            args: [],
          });
        }
      }),
    );
    const startSeconds = (Date.now() - started) / 1000;
    say(`  started ${ids.length} booking workflows in ${startSeconds.toFixed(0)} s`);

    // Each live booking's holdings, under its run as its workflow would name it.
    started = Date.now();
    const runs = new Map<string, { run: string; startedAt: Date }>();
    const query = `ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
    while (runs.size < ids.length) {
      runs.clear();
      for await (const execution of temporal.workflow.list({ query, pageSize: 1000 })) {
        runs.set(execution.workflowId.replace(/^booking-/, ''), {
          run: execution.runId,
          startedAt: execution.startTime,
        });
      }
      if (runs.size < ids.length) await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const now = new Date();
    const leases: LeaseDocument[] = [];
    const claims: ClaimDocument[] = [];
    const hold = (bookingId: string, run: string, runStartedAt: Date, i: number) => {
      const virtualNumber = `+6560${String(i % 5_000).padStart(6, '0')}`;
      const parties = [
        { role: 'rider', number: `+6591${String(i).padStart(6, '0')}` },
        { role: 'driver', number: `+6598${String(i).padStart(6, '0')}` },
      ] as [{ role: string; number: string }, { role: string; number: string }];
      leases.push({
        _id: bookingId,
        run,
        runStartedAt,
        virtualNumber,
        parties,
        status: 'active',
        createdAt: now,
        expiresAt: new Date(now.getTime() + 3_600_000),
      });
      for (const [self, other] of [parties, [parties[1], parties[0]]] as const) {
        claims.push({
          _id: `${self.number}|${virtualNumber}`,
          party: self.number,
          role: self.role,
          virtualNumber,
          bookingId,
          run,
          runStartedAt,
          otherParty: other.number,
          otherRole: other.role,
          settled: true,
          claimedAt: now,
        });
      }
    };
    ids.forEach((bookingId, i) => {
      const { run, startedAt } = runs.get(bookingId)!;
      hold(bookingId, run, startedAt, i);
    });
    for (let i = 0; i < settings.orphans; i++) hold(`orphan-${i}`, `gone-${i}`, now, settings.liveBookings + i);
    for (let i = 0; i < leases.length; i += 2_000)
      await database.collections.leases.insertMany(leases.slice(i, i + 2_000));
    for (let i = 0; i < claims.length; i += 2_000)
      await database.collections.claims.insertMany(claims.slice(i, i + 2_000));
    const seedSeconds = (Date.now() - started) / 1000;
    say(`  wrote ${leases.length} leases and ${claims.length} claims in ${seedSeconds.toFixed(0)} s`);

    const leaseStore = new MongoAllocationStore(database.collections);
    const passStarted = Date.now();
    const report = await reconcilePairings(
      { holdings: new Holdings(database.collections), allocations: leaseStore, temporal, log: { info() {} } },
      { taskQueue, heartbeat: () => {} },
    );
    const passSeconds = (Date.now() - passStarted) / 1000;
    const liveLeft = await database.collections.leases.countDocuments({ _id: { $regex: '^recon-' } });
    const orphansLeft = await database.collections.claims.countDocuments({ bookingId: { $regex: '^orphan-' } });
    say(
      `  one pass over ${report.checked} runs: ${passSeconds.toFixed(1)} s, ${report.described} described, ` +
        `${report.orphaned} released; live leases left ${liveLeft}, orphan claims left ${orphansLeft}`,
    );

    const checks: Check[] = [
      check(
        'reconciliation',
        `one pass, ${settings.liveBookings.toLocaleString('en')} live bookings`,
        `${passSeconds.toFixed(1)} s`,
        `< ${settings.intervalSeconds / 3} s (a third of its interval)`,
        passSeconds < settings.intervalSeconds / 3,
      ),
      check(
        'reconciliation',
        'released: orphans, live bookings',
        `${report.orphaned} of ${settings.orphans}, ${settings.liveBookings - liveLeft}`,
        `${settings.orphans}, 0`,
        report.orphaned === settings.orphans && orphansLeft === 0 && liveLeft === settings.liveBookings,
      ),
    ];
    return {
      settings,
      startSeconds: round(startSeconds),
      seedSeconds: round(seedSeconds),
      passSeconds: round(passSeconds),
      report: { ...report, released: report.released.length },
      liveLeft,
      orphansLeft,
      checks,
    };
  } finally {
    // The workflows stay, waiting on a task queue nobody polls, until the bench's Temporal stops.
    await database.db.dropDatabase().catch(() => undefined);
    await database.close();
    await connection.close();
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
