import { connectDatabase, ensureIndexes } from '../src/store/database';
import {
  describePerBooking,
  perBooking,
  runPlatformLoad,
  startCreationService,
  type CreationLoad,
} from './creationRun';
import { loadAverage, round } from './measure';
import { check, fmt, int, type Check } from './report';
import { seedStore, virtualNumbers } from './seed';
import type { BenchStack } from './stack';
import { historyFigures } from './temporalHistories';

/**
 * Benchmark `overload`: bookings with no contention (every one has parties of its own) from 16, 64 and 256
 * platform clients, each level on a fresh database and fresh processes: `warmupSeconds`, then `durationSeconds`
 * measured. Each client retries a 503/429 (or no answer) with the same bookingId, 1 s apart, 5 tries, as a
 * platform would. Past capacity the service should refuse at once (within 1 s) and keep its peak throughput.
 */
export interface OverloadSettings {
  clients: number[];
  poolSize: number;
  workers: number;
  durationSeconds: number;
  warmupSeconds: number;
  tries: number;
  retryDelayMs: number;
  requestTimeoutMs: number;
  drainSeconds: number;
  historySample: number;
}

export const OVERLOAD_DEFAULTS: OverloadSettings = {
  clients: [16, 64, 256],
  poolSize: 200,
  workers: 1,
  durationSeconds: 30,
  warmupSeconds: 3,
  tries: 5,
  retryDelayMs: 1_000,
  requestTimeoutMs: 30_000,
  drainSeconds: 60,
  historySample: 300,
};

export async function overloadBenchmark(stack: BenchStack, settings: OverloadSettings, say: (line: string) => void) {
  const levels: Record<string, Awaited<ReturnType<typeof overloadLevel>>> = {};
  for (const clients of settings.clients) {
    say(`  overload at ${clients} clients (load average ${loadAverage()})`);
    levels[clients] = await overloadLevel(stack, settings, clients, say);
  }
  const lowest = levels[Math.min(...settings.clients)]!;
  const highest = levels[Math.max(...settings.clients)]!;
  const ratio = highest.bookingsPerSecond / lowest.bookingsPerSecond;
  const refusals = Object.values(levels).reduce((n, level) => n + level.refusals, 0);
  const slowestRefusal = Math.max(
    0,
    ...Object.values(levels).map((level) => (level.refusals > 0 ? level.refusalMs.max : 0)),
  );
  const name = '5 overload';
  const checks: Check[] = [
    ...settings.clients.map((clients) => {
      const level = levels[clients]!;
      return check(
        name,
        `${clients} clients: bookings/s, p50 / p95 per request, refusals`,
        `${fmt(level.bookingsPerSecond)}, ${int(level.perRequestMs.p50)} / ${int(level.perRequestMs.p95)} ms, ${level.refusals}`,
        '',
        null,
      );
    }),
    check(
      name,
      `throughput at ${Math.max(...settings.clients)} / at ${Math.min(...settings.clients)} clients`,
      fmt(ratio, 2),
      '>= 0.90',
      ratio >= 0.9,
    ),
    check(
      name,
      'slowest refusal (503/429) to come back',
      refusals === 0 ? 'no refusal' : `${int(slowestRefusal)} ms (${refusals} refusals)`,
      '<= 1,000 ms',
      slowestRefusal <= 1_000,
    ),
    check(
      name,
      'bookings with no number after the last try (+ other answers)',
      Object.values(levels)
        .map((level) => `${level.withoutNumber} (+ ${level.otherAnswers})`)
        .join(', '),
      '',
      null,
    ),
  ];
  return { settings, levels, ratio: round(ratio, 3), checks };
}

async function overloadLevel(
  stack: BenchStack,
  settings: OverloadSettings,
  clients: number,
  say: (line: string) => void,
) {
  const tag = `${clients}-${Date.now().toString(36)}`;
  const databaseName = `maskline_bench_overload_${clients}`;
  const database = await connectDatabase(stack.mongodbUri(databaseName));
  await database.db.dropDatabase();
  await ensureIndexes(database);
  await seedStore(database, virtualNumbers(settings.poolSize), []);
  const service = await startCreationService(stack, {
    name: `overload-${clients}`,
    database: databaseName,
    taskQueue: `bench-overload-${tag}`,
    workers: settings.workers,
  });
  try {
    const run = await runPlatformLoad(stack, service, `overload-${tag}`, {
      connections: clients,
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      bookingPrefix: `overload-${tag}`,
      lanes: {
        tries: settings.tries,
        retryDelayMs: settings.retryDelayMs,
        retryStatuses: [503, 429, 0],
        requestTimeoutMs: settings.requestTimeoutMs,
        drainSeconds: settings.drainSeconds,
      },
    });
    const histories = await historyFigures(stack.temporalAddress, service.taskQueue, {
      sample: settings.historySample,
      workflowType: 'bookingWorkflow',
    }).catch((error: unknown) => {
      say(`  histories could not be read: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    const load = run.load;
    const refusals = (load.statusCounts['503'] ?? 0) + (load.statusCounts['429'] ?? 0);
    const withNumber = run.records.filter((r) => (r.status === 201 || r.status === 200) && r.virtualNumber).length;
    const retriable = run.records.filter((r) => [0, 503, 429].includes(r.status)).length;
    const level = {
      clients,
      bookingsPerSecond: round(load.createdInWindow / load.windowSeconds, 1),
      createdInWindow: load.createdInWindow,
      windowSeconds: load.windowSeconds,
      bookings: load.bookings,
      unfinished: load.unfinished,
      withoutNumber: retriable,
      otherAnswers: load.bookings - withNumber - retriable,
      requests: load.requests,
      retries: load.retries,
      refusals,
      statusCounts: load.statusCounts,
      finalAnswers: load.finalCounts,
      perRequestMs: load.perRequestMs,
      perBookingMs: load.perBookingMs,
      refusalMs: load.refusalMs,
      refusalsOverOneSecond: run.records
        .flatMap((r) => r.tries)
        .filter((t) => (t.status === 503 || t.status === 429) && t.ms > 1_000).length,
      perSecond: load.perSecond,
      perBooking: perBooking(run, load.bookings, histories),
      // Over the span the CPU was metered (the window and the drain): what each booking made cost the machine,
      // and how much of its 2 cores the service and the load generator used.
      span: spanFigures(run, withNumber),
      histories,
    };
    say(
      `  ${clients} clients: ${fmt(level.bookingsPerSecond)} bookings/s in the window, per request p50 ${int(level.perRequestMs.p50)} ms ` +
        `p95 ${int(level.perRequestMs.p95)} ms, per booking p95 ${int(level.perBookingMs.p95)} ms, answers ${JSON.stringify(load.statusCounts)}, ` +
        `refusals ${refusals} (slowest ${int(level.refusalMs.max)} ms), retries ${load.retries}, unfinished ${load.unfinished}`,
    );
    say(`  ${clients} clients: ${describePerBooking(level.perBooking)}`);
    say(
      `  ${clients} clients over the metered ${fmt(level.span.seconds)} s: ${fmt(level.span.createdPerSecond)} created/s, ` +
        `CPU ms per created booking ${fmt(level.span.cpuMsPerCreated.service)} (service) + ${fmt(level.span.cpuMsPerCreated.loadgen)} (load generator), ` +
        `cores used ${fmt(level.span.coresUsed.service, 2)} + ${fmt(level.span.coresUsed.loadgen, 2)}, ` +
        `creation limit min ${level.span.creationLimit.min ?? '-'} mean ${level.span.creationLimit.mean ?? '-'}, ` +
        `longest event-loop delay ${level.span.eventLoopDelayMaxMs.server ?? '-'} ms (HTTP server), ${int(level.span.eventLoopDelayMaxMs.loadgen)} ms (load generator)`,
    );
    return level;
  } finally {
    await service.stop();
    await database.db.dropDatabase();
    await database.close();
  }
}

function spanFigures(run: CreationLoad, created: number) {
  const seconds = Math.max(0.001, run.meteredSeconds);
  const loadgen = run.cpuSeconds.loadgen ?? 0;
  const service = Object.entries(run.cpuSeconds)
    .filter(([name]) => name !== 'loadgen')
    .reduce((sum, [, cpuSeconds]) => sum + cpuSeconds, 0);
  const limits = run.creationLimit;
  return {
    seconds: round(seconds, 1),
    created,
    createdPerSecond: round(created / seconds, 1),
    cpuMsPerCreated: {
      service: round((service * 1000) / Math.max(1, created), 1),
      loadgen: round((loadgen * 1000) / Math.max(1, created), 1),
    },
    coresUsed: { service: round(service / seconds, 2), loadgen: round(loadgen / seconds, 2) },
    eventLoopDelayMaxMs: {
      server: run.serverEventLoopDelayMaxMs.length > 0 ? Math.max(...run.serverEventLoopDelayMaxMs) : null,
      loadgen: run.load.eventLoopDelayMs.max,
    },
    creationLimit: {
      samples: limits.length,
      min: limits.length > 0 ? Math.min(...limits) : null,
      mean: limits.length > 0 ? round(limits.reduce((a, b) => a + b, 0) / limits.length, 1) : null,
    },
  };
}
