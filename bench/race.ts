import fs from 'node:fs';
import path from 'node:path';
import { connectDatabase, ensureIndexes } from '../src/store/database';
import { cancelAllAndCount, examineLiveBookings, type HeldAtTheEnd, type LiveExamination } from './bookingChecks';
import {
  describePerBooking,
  perBooking,
  runPlatformLoad,
  startCreationService,
  type CreationLoad,
} from './creationRun';
import { loadAverage, round } from './measure';
import { check, fmt, int, type Check } from './report';
import { courier, rider, seedStore, virtualNumbers } from './seed';
import type { BenchStack } from './stack';
import { historyFigures } from './temporalHistories';

/**
 * Benchmark `race`: the busy hour of issue 12. `bookings` bookings through POST /v1/bookings, each pairing one of
 * `riders` riders with one of `drivers` drivers at random, on a pool of `poolSize` numbers, from `clients`
 * platform clients at once; each 503 (or 429, or no answer) retried with the same bookingId, `tries` tries
 * `retryDelayMs` apart, as a platform would. Nothing ends during the race, so afterwards nobody may hold one
 * number twice and every refusal must be a true exhaustion; then every booking is cancelled and nothing may stay
 * held. Run once per entry of `clients`, each on a fresh database and fresh processes.
 */
export interface RaceSettings {
  bookings: number;
  riders: number;
  drivers: number;
  poolSize: number;
  clients: number[];
  workers: number;
  tries: number;
  retryDelayMs: number;
  requestTimeoutMs: number;
  /** No booking is handed out after this; the ones under way may still finish their tries. */
  timeLimitSeconds: number;
  seed: number;
  /** Booking runs whose histories are read, evenly spread. */
  historySample: number;
}

export const RACE_DEFAULTS: RaceSettings = {
  bookings: 2_000,
  riders: 100,
  drivers: 100,
  poolSize: 50,
  clients: [64, 16],
  workers: 1,
  tries: 5,
  retryDelayMs: 1_000,
  requestTimeoutMs: 30_000,
  timeLimitSeconds: 900,
  seed: 1,
  historySample: 400,
};

/** The client count: the one the targets are held against. */
const TARGET_CLIENTS = 64;

/** A small deterministic generator: the same pairs on every run. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export async function raceBenchmark(stack: BenchStack, settings: RaceSettings, say: (line: string) => void) {
  const runs: Record<string, Awaited<ReturnType<typeof raceRun>>> = {};
  for (const clients of settings.clients) {
    say(`  race at ${clients} clients (load average ${loadAverage()})`);
    runs[clients] = await raceRun(stack, settings, clients, say);
  }
  const checks: Check[] = [];
  for (const clients of settings.clients) {
    const run = runs[clients]!;
    const name = `5 race, ${clients} clients`;
    const targeted = clients === TARGET_CLIENTS;
    // The targets are the issue's, at its client count; the other counts are for the breakdown.
    const held = (measure: string, value: string, target: string, met: boolean) =>
      check(name, measure, value, targeted ? target : '', targeted ? met : null);
    const crossings = run.crossings.answers + run.crossings.store + run.crossings.workflows;
    checks.push(
      held('bookings/s (a number or a refusal)', fmt(run.bookingsPerSecond), '>= 60', run.bookingsPerSecond >= 60),
      held(
        'p50 / p95 per booking, retries included',
        `${int(run.perBookingMs.p50)} / ${int(run.perBookingMs.p95)} ms`,
        'p95 <= 1,000 ms',
        run.perBookingMs.p95 <= 1_000,
      ),
      check(name, 'p50 / p95 per request', `${int(run.perRequestMs.p50)} / ${int(run.perRequestMs.p95)} ms`, '', null),
      check(
        name,
        'created / refused / retries',
        `${int(run.created)} / ${int(run.refused)} / ${int(run.retries)}`,
        '',
        null,
      ),
      held(
        'crossings (answers, store, workflows)',
        `${run.crossings.answers}, ${run.crossings.store}, ${run.crossings.workflows}`,
        '0',
        crossings === 0,
      ),
      held('false refusals (a number was free for both)', String(run.falseRefusals), '0', run.falseRefusals === 0),
      held(
        'bookings with no final answer after the last try',
        String(run.withoutFinalAnswer),
        '0',
        run.withoutFinalAnswer === 0,
      ),
      held(
        'held after cancelling all (claims, pairings, busy numbers)',
        `${run.heldAtTheEnd.claims}, ${run.heldAtTheEnd.leases}, ${run.heldAtTheEnd.busyNumbers}`,
        '0',
        run.heldAtTheEnd.claims + run.heldAtTheEnd.leases + run.heldAtTheEnd.busyNumbers === 0,
      ),
      held(
        'other answers',
        String(Object.values(run.otherAnswers).reduce((a, b) => a + b, 0)),
        '0',
        Object.keys(run.otherAnswers).length === 0,
      ),
    );
  }
  return { settings, runs, checks };
}

async function raceRun(stack: BenchStack, settings: RaceSettings, clients: number, say: (line: string) => void) {
  const tag = `${clients}-${Date.now().toString(36)}`;
  const databaseName = `maskline_bench_race_${clients}`;
  const database = await connectDatabase(stack.mongodbUri(databaseName));
  await database.db.dropDatabase();
  await ensureIndexes(database);
  const pool = virtualNumbers(settings.poolSize);
  await seedStore(database, pool, []);
  const random = seeded(settings.seed);
  const requests = Array.from({ length: settings.bookings }, (_, i) => ({
    bookingId: `race-${tag}-${i}`,
    parties: [
      { role: 'rider', number: rider(Math.floor(random() * settings.riders)) },
      { role: 'driver', number: courier(Math.floor(random() * settings.drivers)) },
    ],
    // Nothing ends during the race: holdings only grow, which is what makes a refusal checkable afterwards.
    expiresInSeconds: 3_600,
    gracePeriodSeconds: 0,
  }));
  const bookingsFile = path.join(stack.logDir, `race-${tag}.requests.json`);
  fs.writeFileSync(bookingsFile, JSON.stringify(requests));

  const service = await startCreationService(stack, {
    name: `race-${clients}`,
    database: databaseName,
    taskQueue: `bench-race-${tag}`,
    workers: settings.workers,
  });
  let run: CreationLoad;
  let examination: LiveExamination;
  let held: HeldAtTheEnd;
  let histories: Awaited<ReturnType<typeof historyFigures>> | null = null;
  try {
    run = await runPlatformLoad(stack, service, `race-${tag}`, {
      connections: clients,
      durationSeconds: settings.timeLimitSeconds,
      warmupSeconds: 0,
      bookingPrefix: `race-${tag}`,
      lanes: {
        bookingsFile,
        tries: settings.tries,
        retryDelayMs: settings.retryDelayMs,
        retryStatuses: [503, 429, 0],
        requestTimeoutMs: settings.requestTimeoutMs,
        drainSeconds: (settings.tries * (settings.requestTimeoutMs + settings.retryDelayMs)) / 1000 + 10,
      },
    });
    histories = await historyFigures(stack.temporalAddress, service.taskQueue, {
      sample: settings.historySample,
      workflowType: 'bookingWorkflow',
    }).catch((error: unknown) => {
      say(`  histories could not be read: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    examination = await examineLiveBookings(service, database, run.records, pool, { settleMs: 120_000 });
    held = await cancelAllAndCount(
      service,
      database,
      stack.temporalAddress,
      run.records.map((r) => r.bookingId),
      { waitMs: 120_000 },
    );
  } finally {
    await service.stop();
  }
  await database.db.dropDatabase();
  await database.close();
  return summarizeRun(run, examination, held, histories, run.records.length, say, `race ${clients}`);
}

/** The figures of one contended run, as the race and the merchant report them. */
export function summarizeRun(
  run: CreationLoad,
  examination: LiveExamination,
  held: HeldAtTheEnd | null,
  histories: Awaited<ReturnType<typeof historyFigures>> | null,
  bookings: number,
  say: (line: string) => void,
  label: string,
) {
  const load = run.load;
  const answeredForGood = examination.created + examination.refused;
  const figures = {
    bookings: load.bookings,
    notHandedOut: bookings - load.bookings,
    unfinished: load.unfinished,
    seconds: round(load.durationSeconds, 1),
    bookingsPerSecond: round(answeredForGood / load.durationSeconds, 1),
    createdPerSecond: round(examination.created / load.durationSeconds, 1),
    created: examination.created,
    refused: examination.refused,
    trueExhaustions: examination.refused - examination.falseRefusals.length,
    falseRefusals: examination.falseRefusals.length,
    withoutFinalAnswer: examination.withoutFinalAnswer,
    heldAfterGivingUp: examination.heldAfterGivingUp,
    otherAnswers: examination.otherAnswers,
    retries: load.retries,
    requests: load.requests,
    statusCounts: load.statusCounts,
    finalAnswers: load.finalCounts,
    perRequestMs: load.perRequestMs,
    perBookingMs: load.perBookingMs,
    refusalMs: load.refusalMs,
    perSecond: load.perSecond,
    crossings: {
      answers: examination.crossings.answers.length,
      store: examination.crossings.store.length,
      workflows: examination.crossings.workflows.length,
    },
    crossingExamples: [
      ...examination.crossings.answers,
      ...examination.crossings.store,
      ...examination.crossings.workflows,
    ].slice(0, 10),
    falseRefusalExamples: examination.falseRefusals.slice(0, 10),
    disagreements: examination.disagreements.length,
    disagreementExamples: examination.disagreements.slice(0, 10),
    stillAllocating: examination.stillAllocating,
    heldAtTheEnd: held ?? {
      claims: NaN,
      leases: NaN,
      busyNumbers: NaN,
      runningWorkflows: NaN,
      cancelAnswers: {},
      releasedWithinSeconds: NaN,
    },
    perBooking: perBooking(run, load.bookings, histories),
    histories,
  };
  say(
    `  ${label}: ${fmt(figures.bookingsPerSecond)} bookings/s over ${fmt(figures.seconds)} s; created ${figures.created}, ` +
      `refused ${figures.refused} (${figures.falseRefusals} false), no final answer ${figures.withoutFinalAnswer}, ` +
      `retries ${figures.retries}; per booking p50 ${int(figures.perBookingMs.p50)} ms, p95 ${int(figures.perBookingMs.p95)} ms; ` +
      `per request p50 ${int(figures.perRequestMs.p50)} ms, p95 ${int(figures.perRequestMs.p95)} ms; answers ${JSON.stringify(load.statusCounts)}; ` +
      `crossings ${JSON.stringify(figures.crossings)}; held at the end ${JSON.stringify(held ?? {})}`,
  );
  say(`  ${label}: ${describePerBooking(figures.perBooking)}`);
  return figures;
}
