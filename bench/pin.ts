import fs from 'node:fs';
import path from 'node:path';
import { PIN_DIGITS, pinActionId } from '../src/domain/pin';
import { callReceived, digitsEntered } from '../src/eightbyeight/simulatedWebhooks';
import {
  connectDatabase,
  ensureIndexes,
  type Database,
  type NumberDocument,
  type PinDocument,
} from '../src/store/database';
import { pinId } from '../src/store/pinHoldings';
import { startCreationService } from './creationRun';
import type { LoadResult } from './loadSpec';
import { elapsedMs, round, summarize } from './measure';
import { masklineEnvironment, runLoadGenerator, startProcess, WEBHOOK_SECRET } from './processes';
import { check, fmt, int, type Check } from './report';
import { SESSION_ID } from './loadSpec';
import { courier, rider, seedStore, syntheticBookings, virtualNumbers } from './seed';
import type { BenchStack } from './stack';
import { freePort } from '../scripts/local/ports';

/** The PIN set's numbers: of their own range, away from the ordinary pool's (bench/seed.ts). */
function pinNumbers(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+656${String(9_000_000 + i).padStart(7, '0')}`);
}

async function seedPinNumbers(database: Database, numbers: readonly string[]): Promise<void> {
  const now = new Date();
  const docs: NumberDocument[] = numbers.map((number) => ({
    _id: number,
    countryCode: 'SG',
    referenceId: null,
    status: 'active',
    use: 'pin',
    createdAt: now,
    updatedAt: now,
  }));
  if (docs.length > 0) await database.collections.numbers.insertMany(docs);
}

export interface PinCallSettings {
  /** Ordinary live bookings, for the direct baseline. */
  bookings: number;
  poolSize: number;
  /** Live PIN bookings, on `pinNumbers` numbers of the PIN set. */
  pinBookings: number;
  pinNumbers: number;
  bodies: number;
  ratePerSecond: number;
  seconds: number;
}

export const PIN_CALL_DEFAULTS: PinCallSettings = {
  bookings: 10_000,
  poolSize: 1_000,
  pinBookings: 10_000,
  pinNumbers: 10,
  bodies: 2_000,
  ratePerSecond: 100,
  seconds: 20,
};

/**
 * Benchmark `pin-calls`: what a PIN call costs 8x8's call action, beside a direct one. One Maskline HTTP server over
 * a store of ordinary live bookings and PIN bookings; three open-loop runs at the same steady rate: a direct call
 * (CALL_RECEIVED → makeCall), a PIN call's first call action (CALL_RECEIVED on a PIN number → sayAndCapture) and
 * its follow-up with the right PIN (ACTION_COMPLETED → makeCall). The follow-up is the PIN path's extra call action.
 */
export async function pinCallBenchmark(stack: BenchStack, settings: PinCallSettings, say: (line: string) => void) {
  const databaseName = 'maskline_bench_pin_calls';
  const database = await connectDatabase(stack.mongodbUri(databaseName));
  await database.db.dropDatabase();
  await ensureIndexes(database);
  const pool = virtualNumbers(settings.poolSize);
  const bookings = syntheticBookings({ count: settings.bookings, pool, couriers: 1_000, prefix: 'pin-direct' });
  await seedStore(database, pool, bookings);
  const pinSet = pinNumbers(settings.pinNumbers);
  await seedPinNumbers(database, pinSet);
  const now = new Date();
  const holdings: PinDocument[] = Array.from({ length: settings.pinBookings }, (_, i) => {
    const virtualNumber = pinSet[i % pinSet.length]!;
    // Distinct on each number: i / numbers counts up on every number.
    const pin = String(Math.floor(i / pinSet.length) % 10 ** PIN_DIGITS).padStart(PIN_DIGITS, '0');
    return {
      _id: pinId(virtualNumber, pin),
      virtualNumber,
      pin,
      bookingId: `pin-booking-${i}`,
      run: `seeded-pin-${i}`,
      runStartedAt: now,
      parties: [
        { role: 'customer', number: rider(5_000_000 + i) },
        { role: 'courier', number: courier(5_000 + (i % 1_000)) },
      ],
      claimedAt: now,
    };
  });
  for (let i = 0; i < holdings.length; i += 1_000)
    await database.collections.pins.insertMany(holdings.slice(i, i + 1_000));
  say(
    `  seeded ${int(settings.bookings)} direct and ${int(settings.pinBookings)} PIN bookings on ${settings.pinNumbers} PIN numbers`,
  );

  const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;
  const kinds = {
    direct: () => {
      const booking = pick(bookings);
      return callReceived(booking.parties[0].number, booking.virtualNumber, SESSION_ID);
    },
    prompt: () => {
      const holding = pick(holdings);
      return callReceived(holding.parties[1]!.number, holding.virtualNumber, SESSION_ID);
    },
    followUp: () => {
      const holding = pick(holdings);
      return digitsEntered(holding.parties[1]!.number, holding.virtualNumber, {
        sessionId: SESSION_ID,
        clientActionId: pinActionId(1),
        digits: holding.pin,
      });
    },
  };

  const port = await freePort();
  const server = await startProcess(stack, {
    name: 'pin-calls-ours',
    script: path.join(__dirname, '..', 'src', 'server', 'main.ts'),
    env: masklineEnvironment(stack, { port, database: databaseName, taskQueue: 'bench-pin-calls' }),
    ready: (line) => line.includes('http server listening'),
  });
  const runs: Record<string, LoadResult> = {};
  try {
    for (const [kind, body] of Object.entries(kinds)) {
      const bodiesFile = path.join(stack.logDir, `pin-calls-${kind}.json`);
      fs.writeFileSync(
        bodiesFile,
        JSON.stringify(Array.from({ length: settings.bodies }, () => JSON.stringify(body()))),
      );
      // A paced run has no warm-up of its own: a short one first, so that no kind pays the server's first calls.
      await runLoadGenerator(stack, `pin-calls-${kind}-warm-up`, {
        url: `http://127.0.0.1:${port}`,
        path: '/webhooks/8x8/call-action',
        headers: { authorization: WEBHOOK_SECRET },
        connections: 16,
        ratePerSecond: settings.ratePerSecond,
        durationSeconds: 2,
        warmupSeconds: 0,
        maxRequests: settings.ratePerSecond * 4,
        bodiesFile,
        answers: 'callflow',
      });
      const run = await runLoadGenerator(stack, `pin-calls-${kind}`, {
        url: `http://127.0.0.1:${port}`,
        path: '/webhooks/8x8/call-action',
        headers: { authorization: WEBHOOK_SECRET },
        connections: 16,
        ratePerSecond: settings.ratePerSecond,
        durationSeconds: settings.seconds,
        warmupSeconds: 0,
        maxRequests: settings.ratePerSecond * settings.seconds * 2,
        bodiesFile,
        answers: 'callflow',
      });
      runs[kind] = run;
      say(
        `  ${kind.padEnd(9)} at a steady ${settings.ratePerSecond} calls/s: p50 ${fmt(run.latencyMs.p50, 2)} ms, ` +
          `p99 ${fmt(run.latencyMs.p99, 2)} ms, max ${fmt(run.latencyMs.max, 1)} ms; answers ` +
          `${JSON.stringify(run.answerKinds)}; non-200 ${run.non200}, errors ${run.errors}`,
      );
    }
  } finally {
    await server.stop();
    await database.db.dropDatabase();
    await database.close();
  }
  const name = '1b PIN calls';
  const figure = (run: LoadResult) => `${fmt(run.latencyMs.p50, 2)} / ${fmt(run.latencyMs.p99, 2)} ms`;
  const connected = (run: LoadResult) => run.answerKinds.connected ?? 0;
  const checks: Check[] = [
    check(name, `direct call p50 / p99 at ${settings.ratePerSecond} calls/s`, figure(runs.direct!), '', null),
    check(name, 'PIN prompt (CALL_RECEIVED) p50 / p99', figure(runs.prompt!), '', null),
    check(name, 'PIN follow-up (the extra call action) p50 / p99', figure(runs.followUp!), '', null),
    check(
      name,
      'follow-ups put through / sent',
      `${connected(runs.followUp!)} / ${runs.followUp!.requests}`,
      'all',
      connected(runs.followUp!) === runs.followUp!.requests && runs.followUp!.non200 === 0,
    ),
  ];
  return { settings, runs, checks };
}

export interface MerchantPinSettings {
  liveBookings: number;
  poolSize: number;
  newBookings: number;
  pinNumbers: number;
  clients: number;
  tries: number;
}

export const MERCHANT_PIN_DEFAULTS: MerchantPinSettings = {
  liveBookings: 1_000,
  poolSize: 1_100,
  newBookings: 500,
  pinNumbers: 1,
  clients: 16,
  tries: 5,
};

/**
 * Benchmark `merchant-pin`: the `merchant` case (one party in `liveBookings` live bookings on a pool of `poolSize`,
 * then `newBookings` more of its bookings) with `fallback: "pin"` and a PIN set: the bookings no ordinary number
 * is free for get a PIN number and a PIN instead of `no_number_available`. Reported: how many each way, the PINs'
 * uniqueness in the answers, and that cancelling every booking leaves no PIN held.
 */
export async function merchantPinBenchmark(
  stack: BenchStack,
  settings: MerchantPinSettings,
  say: (line: string) => void,
) {
  const tag = Date.now().toString(36);
  const databaseName = 'maskline_bench_merchant_pin';
  const database = await connectDatabase(stack.mongodbUri(databaseName));
  await database.db.dropDatabase();
  await ensureIndexes(database);
  const pool = virtualNumbers(settings.poolSize);
  const seeded = syntheticBookings({
    count: settings.liveBookings,
    pool,
    couriers: 1,
    prefix: `merchant-pin-seed-${tag}`,
  });
  await seedStore(database, pool, seeded);
  await seedPinNumbers(database, pinNumbers(settings.pinNumbers));
  const merchant = courier(0);
  say(
    `  seeded ${int(settings.liveBookings)} live bookings of one merchant on ${int(settings.poolSize)} numbers, ${settings.pinNumbers} PIN number(s)`,
  );

  const service = await startCreationService(stack, {
    name: 'merchant-pin',
    database: databaseName,
    taskQueue: `bench-merchant-pin-${tag}`,
    workers: 1,
  });
  const answers: {
    bookingId: string;
    status: number;
    mode: string;
    pin: string | null;
    virtualNumber: string | null;
    ms: number;
  }[] = [];
  let heldAfterCancel = -1;
  let retries = 0;
  try {
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: settings.clients }, async () => {
        while (next < settings.newBookings) {
          const i = next++;
          const bookingId = `merchant-pin-${tag}-${i}`;
          const sent = process.hrtime.bigint();
          const request = {
            bookingId,
            parties: [
              { role: 'customer', number: rider(settings.liveBookings + i) },
              { role: 'merchant', number: merchant },
            ],
            expiresInSeconds: 3_600,
            gracePeriodSeconds: 0,
            fallback: 'pin',
          };
          // As the platform does (and `merchant`): a 503, 429 or no answer is tried again, the same request; a retry of
          // one that was created meanwhile is answered 200 with the booking.
          let answer = await service.api('POST', '/v1/bookings', request);
          for (let retry = 1; retry < settings.tries && [0, 429, 503].includes(answer.status); retry++) {
            retries += 1;
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            answer = await service.api('POST', '/v1/bookings', request);
          }
          const body = answer.body as {
            mode?: string;
            pin?: string;
            virtualNumber?: string | null;
            error?: { code?: string };
          } | null;
          answers.push({
            bookingId,
            status: answer.status,
            mode: [200, 201].includes(answer.status)
              ? (body?.mode ?? 'direct')
              : (body?.error?.code ?? `status ${answer.status}`),
            pin: body?.pin ?? null,
            virtualNumber: body?.virtualNumber ?? null,
            ms: elapsedMs(sent),
          });
        }
      }),
    );
    const seconds = elapsedMs(started) / 1000;
    say(`  ${answers.length} bookings in ${fmt(seconds)} s, ${retries} retries`);
    const cancelled = answers.filter((a) => a.status === 200 || a.status === 201);
    for (let i = 0; i < cancelled.length; i += 16) {
      await Promise.all(
        cancelled.slice(i, i + 16).map((a) => service.api('POST', `/v1/bookings/${a.bookingId}/cancel`)),
      );
    }
    const deadline = Date.now() + 60_000;
    do {
      heldAfterCancel = await database.collections.pins.countDocuments({});
      if (heldAfterCancel === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } while (Date.now() < deadline);
  } finally {
    await service.stop();
    await database.db.dropDatabase();
    await database.close();
  }

  const byMode: Record<string, number> = {};
  for (const answer of answers) byMode[answer.mode] = (byMode[answer.mode] ?? 0) + 1;
  const pinAnswers = answers.filter((a) => a.mode === 'pin');
  const distinct = new Set(pinAnswers.map((a) => `${a.virtualNumber}#${a.pin}`)).size;
  const latency = summarize(answers.map((a) => a.ms));
  const pinLatency = summarize(pinAnswers.map((a) => a.ms));
  const canGetOne = settings.poolSize - settings.liveBookings;
  say(
    `  merchant with PIN fallback: ${JSON.stringify(byMode)}; PINs distinct ${distinct} of ${pinAnswers.length}; ` +
      `per booking p50 ${fmt(latency.p50)} ms, p95 ${fmt(latency.p95)} ms (PIN ones p50 ${fmt(pinLatency.p50)} ms, p95 ${fmt(pinLatency.p95)} ms); ` +
      `PINs held after cancelling all: ${heldAfterCancel}`,
  );
  const name = '5b merchant, PIN fallback';
  const checks: Check[] = [
    check(
      name,
      `direct / PIN / refused (of ${settings.newBookings}; ${canGetOne} can get a number of their own)`,
      `${byMode.direct ?? 0} / ${byMode.pin ?? 0} / ${settings.newBookings - (byMode.direct ?? 0) - (byMode.pin ?? 0)}`,
      `${canGetOne} / ${settings.newBookings - canGetOne} / 0`,
      (byMode.direct ?? 0) === canGetOne && (byMode.pin ?? 0) === settings.newBookings - canGetOne,
    ),
    check(
      name,
      'PINs unique on their number',
      `${distinct} of ${pinAnswers.length}`,
      'all',
      distinct === pinAnswers.length,
    ),
    check(name, 'per booking p50 / p95, retries', `${int(latency.p50)} / ${int(latency.p95)} ms, ${retries}`, '', null),
    check(name, 'PINs held after cancelling all', String(heldAfterCancel), '0', heldAfterCancel === 0),
  ];
  return {
    settings,
    byMode,
    distinctPins: distinct,
    perBookingMs: { p50: round(latency.p50), p95: round(latency.p95) },
    heldAfterCancel,
    checks,
  };
}
