import path from 'node:path';
import { freePort } from '../scripts/local/ports';
import { connectDatabase } from '../src/store/database';
import type { BookingCreationSettings } from './bookingCreation';
import type { LoadResult } from './loadSpec';
import { cpuMeter, loadAverage, round } from './measure';
import { masklineEnvironment, runLoadGenerator, startProcess } from './processes';
import { check, fmt, int, type Check } from './report';
import type { BenchStack } from './stack';
import { historyFigures } from './temporalHistories';

/**
 * Benchmark `floor`: Temporal's own cost of a booking's shape, under exactly the load of benchmark 3 (`bookings`:
 * the same load generator, connections, warm-up and duration). A minimal HTTP endpoint (bench/servers/floorHttp.ts)
 * makes one update-with-start per request; a minimal worker (bench/servers/floorWorker.ts) runs a workflow that
 * inserts one document in a local activity, answers the update and waits on a timer (floorWorkflow.ts). No
 * Maskline code on the path. `bookings` reports ours / floor when both ran.
 */
export async function floorBenchmark(
  stack: BenchStack,
  settings: BookingCreationSettings,
  say: (line: string) => void,
) {
  const databaseName = 'maskline_bench_floor';
  const database = await connectDatabase(stack.mongodbUri(databaseName));
  await database.db.dropDatabase();
  const taskQueue = `bench-floor-${Date.now().toString(36)}`;
  const port = await freePort();
  const env = masklineEnvironment(stack, { port, database: databaseName, taskQueue });
  const worker = await startProcess(stack, {
    name: 'floor-worker',
    script: path.join(__dirname, 'servers', 'floorWorker.ts'),
    env,
    ready: (line) => line.includes('floor worker running'),
    readyTimeoutMs: 180_000,
  });
  let result: LoadResult & { cpuSeconds: Record<string, number> };
  const loadAverageBefore = loadAverage();
  try {
    const server = await startProcess(stack, {
      name: 'floor-http',
      script: path.join(__dirname, 'servers', 'floorHttp.ts'),
      env,
      ready: (line) => line.startsWith('listening'),
    });
    const meter = cpuMeter({
      http: server.pid,
      worker: worker.pid,
      // The servers this bench started itself: Temporal, FerretDB and PostgreSQL.
      ...stack.servers,
    });
    try {
      result = await runLoadGenerator(
        stack,
        'floor',
        {
          url: `http://127.0.0.1:${port}`,
          path: '/',
          headers: {},
          connections: settings.connections,
          durationSeconds: settings.durationSeconds,
          warmupSeconds: settings.warmupSeconds,
          maxRequests: settings.maxRequests,
          bookingPrefix: `floor-${Date.now().toString(36)}`,
          answers: 'booking',
        },
        meter,
      );
    } finally {
      await server.stop();
    }
  } finally {
    await worker.stop(30_000);
  }
  const histories = await historyFigures(stack.temporalAddress, taskQueue, {
    sample: 300,
    workflowType: 'floorBookingWorkflow',
  }).catch((error: unknown) => {
    say(`  histories could not be read: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  await database.db.dropDatabase();
  await database.close();

  const created = result.answerKinds.withNumber ?? 0;
  const bookingsPerSecond = created / result.durationSeconds;
  const failures = result.requests - created + result.errors;
  const cpuMsPerBooking = Object.fromEntries(
    Object.entries(result.cpuSeconds).map(([name, seconds]) => [
      name,
      round((seconds * 1000) / Math.max(1, created), 2),
    ]),
  );
  say(
    `  floor: ${fmt(bookingsPerSecond)} bookings/s, p50 ${fmt(result.latencyMs.p50)} ms, p95 ${fmt(result.latencyMs.p95)} ms, ` +
      `answers ${JSON.stringify(result.statusCounts)}, no answer ${result.errors}, CPU ms/booking ${JSON.stringify(cpuMsPerBooking)}` +
      (histories
        ? `; ${fmt(histories.perRun.events.mean)} events/run (${fmt(histories.perRun.eventsToAnswer.mean)} to the answer), ` +
          `${fmt(histories.perRun.workflowTasks, 2)} workflow tasks/run, local activities ${JSON.stringify(histories.perRun.localActivities)}`
        : ''),
  );
  const name = '3 booking creation';
  const checks: Check[] = [
    check(name, 'floor bookings/s (Temporal alone, same load)', fmt(bookingsPerSecond), '', null),
    check(name, 'floor p50 / p95 latency', `${fmt(result.latencyMs.p50)} / ${fmt(result.latencyMs.p95)} ms`, '', null),
    check(name, 'floor errors (other answers + no answer)', int(failures), '0', failures === 0),
  ];
  return {
    settings,
    result,
    bookingsPerSecond: round(bookingsPerSecond, 1),
    cpuMsPerBooking,
    histories,
    loadAverageBefore,
    checks,
  };
}
