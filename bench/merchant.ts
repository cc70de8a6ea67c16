import fs from 'node:fs';
import path from 'node:path';
import { connectDatabase, ensureIndexes } from '../src/store/database';
import { cancelAllAndCount, examineLiveBookings } from './bookingChecks';
import { runPlatformLoad, startCreationService } from './creationRun';
import { elapsedMs, round } from './measure';
import { summarizeRun } from './race';
import { check, fmt, int, type Check } from './report';
import { courier, rider, seedStore, syntheticBookings, virtualNumbers } from './seed';
import type { BenchStack } from './stack';
import { historyFigures } from './temporalHistories';

/**
 * Benchmark `merchant`: one party (a merchant) already in `liveBookings` live bookings, seeded straight into the
 * store (bench/seed.ts, so the seed is not the benchmark), each on a number of its own, on a pool of `poolSize`;
 * then `newBookings` more of its bookings, each with a new customer, through POST /v1/bookings from `clients`
 * platform clients. Only `poolSize - liveBookings` of them can get a number: the rest must be refused, each a true
 * exhaustion. Measured: the allocation's own latency inside the worker (the allocation activity's start to its
 * completion in each run's history), store round trips per booking, refusals.
 */
export interface MerchantSettings {
  liveBookings: number;
  poolSize: number;
  newBookings: number;
  clients: number;
  workers: number;
  tries: number;
  retryDelayMs: number;
  requestTimeoutMs: number;
  timeLimitSeconds: number;
}

export const MERCHANT_DEFAULTS: MerchantSettings = {
  liveBookings: 1_000,
  poolSize: 1_100,
  newBookings: 500,
  clients: 16,
  workers: 1,
  tries: 5,
  retryDelayMs: 1_000,
  requestTimeoutMs: 30_000,
  timeLimitSeconds: 600,
};

/** The activity whose time is the allocation's. */
const ALLOCATION = 'allocateVirtualNumber';

export async function merchantBenchmark(stack: BenchStack, settings: MerchantSettings, say: (line: string) => void) {
  const tag = Date.now().toString(36);
  const databaseName = 'maskline_bench_merchant';
  const database = await connectDatabase(stack.mongodbUri(databaseName));
  await database.db.dropDatabase();
  await ensureIndexes(database);
  const pool = virtualNumbers(settings.poolSize);
  // One courier for every seeded booking: the merchant, on a number of its own in each.
  const seededBookings = syntheticBookings({
    count: settings.liveBookings,
    pool,
    couriers: 1,
    prefix: `merchant-seed-${tag}`,
  });
  const merchant = courier(0);
  const seedStarted = process.hrtime.bigint();
  await seedStore(database, pool, seededBookings);
  const seedSeconds = elapsedMs(seedStarted) / 1000;
  say(
    `  seeded ${int(settings.liveBookings)} live bookings of one merchant on ${int(settings.poolSize)} numbers in ${fmt(seedSeconds)} s`,
  );

  const requests = Array.from({ length: settings.newBookings }, (_, i) => ({
    bookingId: `merchant-${tag}-${i}`,
    parties: [
      { role: 'customer', number: rider(settings.liveBookings + i) },
      { role: 'merchant', number: merchant },
    ],
    expiresInSeconds: 3_600,
    gracePeriodSeconds: 0,
  }));
  const bookingsFile = path.join(stack.logDir, `merchant-${tag}.requests.json`);
  fs.writeFileSync(bookingsFile, JSON.stringify(requests));

  const service = await startCreationService(stack, {
    name: 'merchant',
    database: databaseName,
    taskQueue: `bench-merchant-${tag}`,
    workers: settings.workers,
  });
  let figures: ReturnType<typeof summarizeRun>;
  try {
    const run = await runPlatformLoad(stack, service, `merchant-${tag}`, {
      connections: settings.clients,
      durationSeconds: settings.timeLimitSeconds,
      warmupSeconds: 0,
      bookingPrefix: `merchant-${tag}`,
      lanes: {
        bookingsFile,
        tries: settings.tries,
        retryDelayMs: settings.retryDelayMs,
        retryStatuses: [503, 429, 0],
        requestTimeoutMs: settings.requestTimeoutMs,
        drainSeconds: (settings.tries * (settings.requestTimeoutMs + settings.retryDelayMs)) / 1000 + 10,
      },
    });
    const histories = await historyFigures(stack.temporalAddress, service.taskQueue, {
      sample: settings.newBookings * 3,
      workflowType: 'bookingWorkflow',
    }).catch((error: unknown) => {
      say(`  histories could not be read: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    const examination = await examineLiveBookings(service, database, run.records, pool, {
      settleMs: 120_000,
      seeded: settings.liveBookings,
    });
    const held = await cancelAllAndCount(
      service,
      database,
      stack.temporalAddress,
      run.records.map((r) => r.bookingId),
      {
        waitMs: 120_000,
        // The seeded bookings have no workflow to cancel: they stay, two claims and a pairing each.
        keep: { claims: 2 * settings.liveBookings, leases: settings.liveBookings, busyNumbers: settings.liveBookings },
      },
    );
    figures = summarizeRun(run, examination, held, histories, settings.newBookings, say, 'merchant');
  } finally {
    await service.stop();
    await database.db.dropDatabase();
    await database.close();
  }

  const allocation = figures.histories?.activityMs[ALLOCATION] ?? null;
  const roundTrips = figures.perBooking.storeRoundTrips.total;
  const canGetOne = settings.poolSize - settings.liveBookings;
  say(
    `  merchant: allocation inside the worker p50 ${fmt(allocation?.p50 ?? NaN)} ms, p95 ${fmt(allocation?.p95 ?? NaN)} ms ` +
      `(${allocation?.count ?? 0} attempts timed); store round trips per booking ${fmt(roundTrips)}; ` +
      `created ${figures.created} of the ${canGetOne} that can be, refused ${figures.refused}`,
  );
  const name = '5 merchant';
  const checks: Check[] = [
    check(
      name,
      `allocation p50 / p95 with ${int(settings.liveBookings)} holdings`,
      allocation ? `${fmt(allocation.p50)} / ${fmt(allocation.p95)} ms` : 'n/a',
      'p95 <= 50 ms',
      allocation !== null && allocation.p95 <= 50,
    ),
    check(name, 'store round trips per booking', fmt(roundTrips), '<= 10', roundTrips <= 10),
    check(
      name,
      `created / refused (of ${settings.newBookings}; ${canGetOne} can get one)`,
      `${figures.created} / ${figures.refused}`,
      `${canGetOne} / ${settings.newBookings - canGetOne}`,
      figures.created === canGetOne && figures.refused === settings.newBookings - canGetOne,
    ),
    check(
      name,
      'false refusals, crossings',
      `${figures.falseRefusals}, ${figures.crossings.answers + figures.crossings.store + figures.crossings.workflows}`,
      '0, 0',
      figures.falseRefusals === 0 &&
        figures.crossings.answers + figures.crossings.store + figures.crossings.workflows === 0,
    ),
    check(
      name,
      'bookings/s, p50 / p95 per booking, retries',
      `${fmt(figures.bookingsPerSecond)}, ${int(figures.perBookingMs.p50)} / ${int(figures.perBookingMs.p95)} ms, ${figures.retries}`,
      '',
      null,
    ),
    check(
      name,
      'held after cancelling all (beyond the seeded)',
      `${figures.heldAtTheEnd.claims}, ${figures.heldAtTheEnd.leases}, ${figures.heldAtTheEnd.busyNumbers}`,
      '0',
      figures.heldAtTheEnd.claims + figures.heldAtTheEnd.leases + figures.heldAtTheEnd.busyNumbers === 0,
    ),
  ];
  return { settings, seedSeconds: round(seedSeconds), figures, allocationMs: allocation, checks };
}
