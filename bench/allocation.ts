import type { Document } from 'mongodb';
import { allocateVirtualNumber } from '../src/domain/allocation';
import { BOOKING_DEFAULTS, type BookingRequest } from '../src/domain/booking';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import { MongoAllocationStore } from '../src/store/allocationStore';
import { elapsedMs, loadAverage, round, summarize, timedMethods } from './measure';
import { check, fmt, int, type Check } from './report';
import { courier, rider, seedStore, syntheticBookings, virtualNumbers } from './seed';
import type { BenchStack } from './stack';

export interface AllocationSettings {
  poolSizes: number[];
  liveBookings: number;
  /** Bookings per courier in the seeded load (each courier's bookings sit on distinct numbers). */
  bookingsPerCourier: number;
  /** Allocations measured per pool size, unless the time below runs out first. */
  allocations: number;
  secondsPerPool: number;
  /** A second series: the middle pool size under smaller live loads, to see what the cost grows with. */
  liveBookingsSweep: number[];
  secondsPerSweepPoint: number;
}

export const ALLOCATION_DEFAULTS: AllocationSettings = {
  poolSizes: [100, 1_000, 10_000],
  liveBookings: 50_000,
  bookingsPerCourier: 10,
  allocations: 300,
  secondsPerPool: 30,
  liveBookingsSweep: [1_000, 10_000],
  secondsPerSweepPoint: 10,
};

interface Measurement {
  poolSize: number;
  liveBookings: number;
  allocations: number;
  stoppedBy: 'count' | 'time';
  ms: { mean: number; p50: number; p95: number; max: number };
  /** Each store call the allocation step made, per method: where the time goes. */
  storeCalls: Record<string, { callsPerAllocation: number; meanMs: number; p95Ms: number }>;
  seedSeconds: number;
  loadAverageBefore: number;
  queryPlans?: Record<string, unknown>;
}

/**
 * Benchmark 2: what the allocation step itself costs (src/domain/allocation.ts over MongoAllocationStore, no
 * Temporal, one at a time) as the pool grows, with the same live load on every pool. Each allocation is a new
 * booking of two people who hold nothing yet. Nothing is released: the live count grows by the allocations
 * made (at most 300 on 50,000, under 1%), which keeps the run short.
 */
export async function allocationBenchmark(
  stack: BenchStack,
  settings: AllocationSettings,
  say: (line: string) => void,
) {
  const perPool: Measurement[] = [];
  for (const poolSize of settings.poolSizes) {
    const withPlans = poolSize === settings.poolSizes[0];
    perPool.push(
      await measure(stack, settings, poolSize, settings.liveBookings, settings.secondsPerPool, withPlans, say),
    );
  }
  const sweepPool = settings.poolSizes[Math.floor(settings.poolSizes.length / 2)]!;
  const sweep: Measurement[] = [];
  for (const liveBookings of settings.liveBookingsSweep) {
    sweep.push(await measure(stack, settings, sweepPool, liveBookings, settings.secondsPerSweepPoint, false, say));
  }
  const atFullLoad = perPool.find((m) => m.poolSize === sweepPool);
  if (atFullLoad) sweep.push(atFullLoad);

  const name = '2 allocation';
  const smallest = perPool.reduce((a, b) => (a.poolSize < b.poolSize ? a : b));
  const largest = perPool.reduce((a, b) => (a.poolSize > b.poolSize ? a : b));
  const growth = largest.ms.mean / smallest.ms.mean;
  const summary = (m: Measurement) => `${fmt(m.ms.mean)} / ${fmt(m.ms.p50)} / ${fmt(m.ms.p95)} ms`;
  const checks: Check[] = [
    ...perPool.map((m) =>
      check(
        name,
        `pool ${int(m.poolSize)}, ${int(m.liveBookings)} live: mean / p50 / p95 (n=${m.allocations})`,
        summary(m),
        '',
        null,
      ),
    ),
    check(
      name,
      `mean at ${int(largest.poolSize)} / mean at ${int(smallest.poolSize)}`,
      fmt(growth, 2),
      '<= 2.00',
      growth <= 2,
    ),
    ...sweep
      .filter((m) => m !== atFullLoad)
      .map((m) =>
        check(
          name,
          `pool ${int(m.poolSize)}, ${int(m.liveBookings)} live: mean / p50 / p95 (n=${m.allocations})`,
          summary(m),
          '',
          null,
        ),
      ),
  ];
  return { settings, perPool, liveBookingsSweep: sweep, meanGrowth: round(growth, 3), checks };
}

async function measure(
  stack: BenchStack,
  settings: AllocationSettings,
  poolSize: number,
  liveBookings: number,
  seconds: number,
  withPlans: boolean,
  say: (line: string) => void,
): Promise<Measurement> {
  const database = await connectDatabase(stack.mongodbUri(`maskline_bench_alloc_${poolSize}_${liveBookings}`));
  await database.db.dropDatabase();
  await ensureIndexes(database);
  const pool = virtualNumbers(poolSize);
  const seedStarted = process.hrtime.bigint();
  const couriers = Math.ceil(liveBookings / settings.bookingsPerCourier);
  await seedStore(
    database,
    pool,
    syntheticBookings({ count: liveBookings, pool, couriers, prefix: `alloc${poolSize}` }),
  );
  const seedSeconds = elapsedMs(seedStarted) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // the launcher's _id index pass

  const store = timedMethods(new MongoAllocationStore(database.collections));
  let next = 0;
  const allocateOne = async () => {
    const n = next++;
    const request: BookingRequest = {
      ...BOOKING_DEFAULTS,
      bookingId: `alloc-${poolSize}-${n}`,
      parties: [
        { role: 'rider', number: rider(1_000_000 + n) },
        { role: 'courier', number: courier(1_000_000 + n) },
      ],
    };
    const started = process.hrtime.bigint();
    const holder = { bookingId: request.bookingId, run: `bench-${n}`, runStartedAt: Date.now() };
    const outcome = await allocateVirtualNumber(request, holder, store.proxy);
    const ms = elapsedMs(started);
    if (outcome.outcome !== 'allocated') throw new Error(`allocation refused on a pool of ${poolSize}`);
    return ms;
  };
  // Warm-up: whatever the store reads once and keeps (a view of the pool, caches) is read before timing.
  await store.proxy.leastLoadedNumbers({ countryCode: 'SG', exclude: [], limit: 8 });
  store.reset();

  const loadAverageBefore = loadAverage();
  const deadline = Date.now() + seconds * 1000;
  const times: number[] = [];
  while (times.length < settings.allocations && Date.now() < deadline) times.push(await allocateOne());
  const queryPlans = withPlans ? await explainQueries(database, pool[0]!) : undefined;
  await database.db.dropDatabase();
  await database.close();

  const s = summarize(times);
  const storeCalls = Object.fromEntries(
    [...store.timings].map(([method, ms]) => {
      const t = summarize(ms);
      return [
        method,
        { callsPerAllocation: round(ms.length / times.length, 2), meanMs: round(t.mean, 2), p95Ms: round(t.p95, 2) },
      ];
    }),
  );
  say(
    `  pool ${int(poolSize).padStart(6)}, ${int(liveBookings).padStart(6)} live: ${times.length} allocations, ` +
      `mean ${fmt(s.mean, 2)} ms, p50 ${fmt(s.p50, 2)} ms, p95 ${fmt(s.p95, 2)} ms (seeded in ${fmt(seedSeconds)} s)`,
  );
  say(
    `    store calls: ${Object.entries(storeCalls)
      .map(([method, c]) => `${method} ${c.callsPerAllocation}x ${c.meanMs} ms`)
      .join(', ')}`,
  );
  for (const [query, plan] of Object.entries(queryPlans ?? {}))
    say(`    store plan, ${query}: ${JSON.stringify(plan)}`);
  return {
    poolSize,
    liveBookings,
    allocations: times.length,
    stoppedBy: times.length < settings.allocations ? 'time' : 'count',
    ms: { mean: round(s.mean, 2), p50: round(s.p50, 2), p95: round(s.p95, 2), max: round(s.max, 2) },
    storeCalls,
    seedSeconds: round(seedSeconds),
    loadAverageBefore,
    ...(queryPlans ? { queryPlans } : {}),
  };
}

/**
 * How the store runs the queries of an allocation, as its `explain` tells: on FerretDB 1.x, whether the filter
 * reached SQLite (`filterPushdown`) and what SQLite did (SCAN: the whole table; SEARCH ... USING INDEX: a lookup).
 */
async function explainQueries(database: Database, virtualNumber: string) {
  const party = rider(0);
  const queries: Record<string, { find: string; filter: Document }> = {
    'claimsOf (claims by party)': { find: 'claims', filter: { party } },
    'claim lookup (claims by _id)': { find: 'claims', filter: { _id: `${party}|${virtualNumber}` } },
    'isAllocatable (numbers by _id)': { find: 'numbers', filter: { _id: virtualNumber } },
  };
  const plans: Record<string, unknown> = {};
  for (const [name, query] of Object.entries(queries)) {
    try {
      const explained = await database.db.command({ explain: query });
      plans[name] = {
        plan: (explained.queryPlanner as { Plan?: unknown } | undefined)?.Plan ?? explained.queryPlanner,
        filterPushdown: explained.filterPushdown,
      };
    } catch (error) {
      plans[name] = { error: error instanceof Error ? error.message : String(error) };
    }
  }
  return plans;
}
