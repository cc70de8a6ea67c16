import path from 'node:path';
import { freePort } from '../scripts/local/ports';
import { connectDatabase, ensureIndexes } from '../src/store/database';
import type { LoadResult } from './loadSpec';
import { describeProfiles, summarizeProfilesIn } from './cpuProfile';
import { cpuMeter, loadAverage, round, sampleResidentMemory } from './measure';
import { API_KEY, masklineEnvironment, runLoadGenerator, startProcess } from './processes';
import { check, fmt, int, type Check } from './report';
import { seedStore, virtualNumbers } from './seed';
import type { BenchStack } from './stack';
import { historyFigures } from './temporalHistories';

export interface BookingCreationSettings {
  poolSize: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  maxRequests: number;
}

export const BOOKING_CREATION_DEFAULTS: BookingCreationSettings = {
  poolSize: 200,
  connections: 20,
  durationSeconds: 30,
  warmupSeconds: 3,
  maxRequests: 60_000,
};

/**
 * Benchmark 3: POST /v1/bookings end to end — the HTTP server's update-with-start through Temporal, the worker's
 * workflow and allocation activity, back to the answer with the virtual number — with the real server and worker
 * processes (src/server/main.ts, src/worker/main.ts). Every booking is new and has parties of its own.
 */
export async function bookingCreationBenchmark(
  stack: BenchStack,
  settings: BookingCreationSettings,
  say: (line: string) => void,
  /** Settings of the deployment beyond the bench's own (e.g. a booking events receiver), and their run's name. */
  variant: { name: string; env: Record<string, string> } = { name: '3 booking creation', env: {} },
) {
  const databaseName = 'maskline_bench_bookings';
  const database = await connectDatabase(stack.mongodbUri(databaseName));
  await database.db.dropDatabase();
  await ensureIndexes(database);
  await seedStore(database, virtualNumbers(settings.poolSize), []);

  const taskQueue = `bench-bookings-${process.pid}-${Date.now()}`;
  const port = await freePort();
  const env = { ...masklineEnvironment(stack, { port, database: databaseName, taskQueue }), ...variant.env };
  const root = path.join(__dirname, '..');
  const workerStarted = Date.now();
  const worker = await startProcess(stack, {
    name: 'bookings-worker',
    script: path.join(root, 'src', 'worker', 'main.ts'),
    env,
    ready: (line) => line.includes('"worker running"'),
    readyTimeoutMs: 180_000,
  });
  say(`  worker ready in ${fmt((Date.now() - workerStarted) / 1000)} s`);
  let result: LoadResult & { cpuSeconds: Record<string, number> };
  let serverRss: number;
  let workerRss: number;
  const loadAverageBefore = loadAverage();
  try {
    const server = await startProcess(stack, {
      name: 'bookings-http',
      script: path.join(root, 'src', 'server', 'main.ts'),
      env,
      ready: (line) => line.includes('http server listening'),
    });
    const serverMemory = sampleResidentMemory(server.pid!);
    const workerMemory = sampleResidentMemory(worker.pid!);
    const meter = cpuMeter({
      http: server.pid,
      worker: worker.pid,
      // The servers this bench started itself: Temporal, FerretDB and PostgreSQL.
      ...stack.servers,
    });
    try {
      result = await runLoadGenerator(
        stack,
        'bookings',
        {
          url: `http://127.0.0.1:${port}`,
          path: '/v1/bookings',
          headers: { authorization: `Bearer ${API_KEY}` },
          connections: settings.connections,
          durationSeconds: settings.durationSeconds,
          warmupSeconds: settings.warmupSeconds,
          maxRequests: settings.maxRequests,
          bookingPrefix: `bench-${Date.now().toString(36)}`,
          answers: 'booking',
        },
        meter,
      );
    } finally {
      serverRss = serverMemory.stop().maxMb;
      workerRss = workerMemory.stop().maxMb;
      await server.stop();
    }
  } finally {
    await worker.stop(30_000);
  }
  const profile = stack.profileDir
    ? {
        http: summarizeProfilesIn(path.join(stack.profileDir, 'bookings-http')),
        worker: summarizeProfilesIn(path.join(stack.profileDir, 'bookings-worker')),
      }
    : undefined;
  const rate = (seconds: number[]) => (seconds.length ? seconds.reduce((a, b) => a + b, 0) / seconds.length : NaN);
  const firstFive = rate(result.perSecond.slice(0, 5));
  const lastFive = rate(result.perSecond.slice(-6, -1));
  say(`  answers per second: first 5 s ${fmt(firstFive)}, last 5 s ${fmt(lastFive)}`);
  if (profile) say(`  profiles: http ${describeProfiles(profile.http)} || worker ${describeProfiles(profile.worker)}`);
  // Temporal's share, to set beside the floor's (bench/floor.ts).
  const histories = await historyFigures(stack.temporalAddress, taskQueue, {
    sample: 300,
    workflowType: 'bookingWorkflow',
  }).catch((error: unknown) => {
    say(`  histories could not be read: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  const liveAfter = await database.collections.leases.countDocuments({});
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
    `  ${int(bookingsPerSecond)} bookings/s, p50 ${fmt(result.latencyMs.p50)} ms, p95 ${fmt(result.latencyMs.p95)} ms, ` +
      `answers ${JSON.stringify(result.statusCounts)}, no answer ${result.errors}, RSS http ${fmt(serverRss)} MB / worker ${fmt(workerRss)} MB, ` +
      `CPU ms/booking ${JSON.stringify(cpuMsPerBooking)}`,
  );
  const { name } = variant;
  const checks: Check[] = [
    check(name, 'bookings/s (201 with a VN)', fmt(bookingsPerSecond), '>= 100', bookingsPerSecond >= 100),
    check(name, 'p50 latency', `${fmt(result.latencyMs.p50)} ms`, '', null),
    check(name, 'p95 latency', `${fmt(result.latencyMs.p95)} ms`, '<= 250 ms', result.latencyMs.p95 <= 250),
    check(name, 'errors (other answers + no answer)', String(failures), '0', failures === 0),
  ];
  return {
    settings,
    result,
    bookingsPerSecond: round(bookingsPerSecond, 1),
    leasesInStoreAfter: liveAfter,
    maxRssMb: { http: round(serverRss), worker: round(workerRss) },
    cpuMsPerBooking,
    histories,
    answersPerSecond: { firstFiveSeconds: round(firstFive), lastFiveSeconds: round(lastFive) },
    profile,
    loadAverageBefore,
    checks,
  };
}
