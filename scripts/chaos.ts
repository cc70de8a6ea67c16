/**
 * `npm run chaos`: the soak and chaos run of issue #6, on servers and processes of its own (a Temporal dev server
 * with its state in a file and FerretDB on a PostgreSQL of its own, on free loopback ports; the HTTP server and the
 * workers as child processes), bounded in time. It prints its figures and writes them to a JSON file.
 *
 * 1. Race: CHAOS_BOOKINGS bookings created at once through the HTTP API over CHAOS_PARTIES people and a pool of
 *    CHAOS_NUMBERS numbers, with CHAOS_WORKERS worker processes. Nothing ends meanwhile, so afterwards: nobody
 *    holds one number in two live bookings (answers, store, the workflows' own records), every refusal is a true
 *    exhaustion.
 * 2. Crashes: a random worker is killed by SIGKILL and restarted, again and again, while a second wave is created
 *    (allocation; some of it expires by itself within seconds), while nothing is in flight (hold), and while every
 *    booking is cancelled or completed (release); the HTTP server is killed twice during creations, whose retries
 *    must return the same booking and number. Then every booking must reach its end and no number may stay held.
 * 3. Outages: FerretDB killed, PostgreSQL left running as a crashed mongod's disk would be (call actions must still
 *    answer the notice within 2 s; calls route again once it is back on the same port and data) and Temporal
 *    stopped (calls connect, creation answers 503 temporal_unavailable, status and summary webhooks are stored and
 *    reach the booking once Temporal is back).
 * 4. Booking events: CHAOS_EVENTS_BOOKINGS bookings send their events to a receiver of the platform's, which goes
 *    down for CHAOS_RECEIVER_DOWN_S while they end and a worker dies; once it is back, every event each booking
 *    recorded must arrive, in the booking's order (duplicates are allowed: delivery is at least once).
 * 5. Logs: no phone number unmasked in any line the app processes printed.
 *
 * Env: CHAOS_BOOKINGS (2000), CHAOS_PARTIES (200), CHAOS_NUMBERS (50), CHAOS_WORKERS (3), CHAOS_CONCURRENCY (16),
 * CHAOS_SECOND_WAVE (300), CHAOS_OUTAGE_EVENTS (40), CHAOS_EVENTS_BOOKINGS (40), CHAOS_RECEIVER_DOWN_S (60),
 * CHAOS_SEED (1), CHAOS_TIME_LIMIT_S (1500),
 * CHAOS_OUT (.data/chaos/latest.json; the app processes' log lines go beside it, as .log). Exit code 0 only when
 * every check held.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { repoRoot } from './local/paths';
import { setTimeout as sleep } from 'node:timers/promises';
import { unmaskedPhoneNumbers } from './logScan';
import {
  allocated,
  cancelBookings,
  checkAnswers,
  checkLiveBookings,
  createBookings,
  heldNumbers,
  inBatches,
  people,
  raceRequests,
  seeded,
  sendUntilFinal,
  virtualNumbers,
  waitUntilEnded,
  type BookingAttempt,
  type Send,
} from '../harness/bookingRace';
import { callReceived, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { validateCallActionAnswer } from '../harness/eightbyeightSchemas';
import { ProcessStack } from '../harness/processStack';
import { EventReceiver } from '../harness/eventReceiver';

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const BOOKINGS = setting('CHAOS_BOOKINGS', 2000);
const PARTIES = setting('CHAOS_PARTIES', 200);
const NUMBERS = setting('CHAOS_NUMBERS', 50);
const WORKERS = setting('CHAOS_WORKERS', 3);
// 64 requests in flight overload FerretDB 1.x here (every non-_id query scans the collection): allocations
// outlast their 10 s activity timeout and their retries pile on. 16 keeps it moving; see RELIABILITY.md.
const CONCURRENCY = setting('CHAOS_CONCURRENCY', 16);
const SECOND_WAVE = setting('CHAOS_SECOND_WAVE', 300);
const OUTAGE_EVENTS = setting('CHAOS_OUTAGE_EVENTS', 40);
const EVENTS_BOOKINGS = setting('CHAOS_EVENTS_BOOKINGS', 40);
const RECEIVER_DOWN_MS = setting('CHAOS_RECEIVER_DOWN_S', 60) * 1000;
/** Delivery backs off 1 s doubling: an event that failed all the receiver's outage is retried within about as long. */
const EVENTS_ARRIVE_WITHIN_MS = RECEIVER_DOWN_MS + 120_000;
const SEED = setting('CHAOS_SEED', 1);
// A watchdog against a hung run, not a speed target (each phase has its own deadlines). The five phases take about
// 700 s on a quiet 2-core machine and over 1,000 s on a loaded one: at 540 s, `npm run chaos` gave up every time
// once phase 4 (booking events, its receiver down 60 s) was added.
const TIME_LIMIT_MS = setting('CHAOS_TIME_LIMIT_S', 1_500) * 1000;
const OUT = process.env.CHAOS_OUT ?? path.join(repoRoot, '.data', 'chaos', 'latest.json');
const NOTICE_WITHIN_MS = 2_000;

const started = Date.now();
const random = seeded(SEED);
const say = (message: string) =>
  process.stdout.write(`[chaos ${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);
const actionsOf = (body: { callflow?: { action: string }[] } | undefined) =>
  (body?.callflow ?? []).map((s) => s.action);

const figures = {
  settings: {
    bookings: BOOKINGS,
    parties: PARTIES,
    numbers: NUMBERS,
    workers: WORKERS,
    concurrency: CONCURRENCY,
    seed: SEED,
  },
  race: { raced: 0, allocated: 0, refused: 0, retriedRequests: 0, seconds: 0, violations: [] as string[] },
  crashes: {
    workerKills: { duringAllocation: 0, duringHold: 0, duringRelease: 0 },
    httpKills: 0,
    requestsCutByHttpKills: 0,
    secondNumbersAfterHttpKill: 0,
    secondWave: 0,
    bookingsEnded: 0,
    bookingsNotEnded: [] as string[],
    violations: [] as string[],
  },
  outages: {
    store: { callActions: 0, slowestNoticeMs: 0, invalidAnswers: 0, recoveredAfterMs: -1 },
    temporal: {
      callsConnected: 0,
      creationAnswers: {} as Record<string, number>,
      eventsSent: 0,
      eventsResent: 0,
      eventsRefused: 0,
      slowestEventAnswerMs: 0,
      eventsDelivered: 0,
      deliveredAfterMs: -1,
    },
  },
  bookingEvents: {
    bookings: 0,
    receiverDownSeconds: 0,
    recorded: 0,
    delivered: 0,
    lost: -1,
    /** Bookings whose events could not be read at all: their losses are unknown, and the check fails. */
    unread: 0,
    outOfOrder: 0,
    duplicates: 0,
    lastArrivedAfterMs: -1,
  },
  logs: { appLines: 0, unmaskedLines: 0 },
  numbersLeaked: -1,
  eventsLost: -1,
  ok: false,
  seconds: 0,
};

function timeLeft(): number {
  return TIME_LIMIT_MS - (Date.now() - started);
}

async function main(): Promise<boolean> {
  say(`starting: ${WORKERS} workers, ${NUMBERS} numbers, ${PARTIES} people, ${BOOKINGS} bookings (seed ${SEED})`);
  // Booking events are signed with this (phase 4's receiver does not check: the suite's tests do).
  const stack = await ProcessStack.start({
    workers: WORKERS,
    env: { MASKLINE_EVENTS_SECRETS: `whsec_${randomBytes(24).toString('base64')}` },
  });
  const client = await MongoClient.connect(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
  const db = client.db();
  const send: Send = (method, route, body) => stack.api(method, route, body);
  try {
    const pool = virtualNumbers(NUMBERS, '6300');
    await inBatches(pool, 10, async (number) => {
      const added = await send('POST', '/v1/numbers', { number });
      if (added.status !== 201) throw new Error(`adding ${number}: ${added.status}`);
    });
    const persons = people(PARTIES, '9600');

    // 1. Race.
    const requests = raceRequests(BOOKINGS, persons, { seed: SEED, idPrefix: `race-${SEED}`, gracePeriodSeconds: 1 });
    let t = Date.now();
    const attempts = await createBookings(send, requests, CONCURRENCY);
    figures.race.seconds = Math.round((Date.now() - t) / 1000);
    figures.race.retriedRequests = attempts.reduce((sum, a) => sum + a.tries - 1, 0);
    const live = await checkLiveBookings(send, db, attempts, pool);
    figures.race.violations = [...checkAnswers(attempts), ...live.violations];
    Object.assign(figures.race, { raced: requests.length, allocated: live.allocatedCount, refused: live.refusals });
    say(
      `race: ${requests.length} bookings in ${figures.race.seconds} s: ${live.allocatedCount} allocated, ` +
        `${live.refusals} refused, ${figures.race.violations.length} violations`,
    );
    for (const violation of figures.race.violations.slice(0, 20)) say(`  race violation: ${violation}`);

    // 2. Crashes, at random moments, while the first wave ends and a second is created.
    await crashes(stack, send, db, attempts, persons);
    const everyBooking = [...requests.map((r) => r.bookingId), ...secondWaveIds];
    t = Date.now();
    figures.crashes.bookingsNotEnded = await waitUntilEnded(send, everyBooking, Math.max(60_000, timeLeft() - 120_000));
    figures.crashes.bookingsEnded = everyBooking.length - figures.crashes.bookingsNotEnded.length;
    const held = await heldNumbers(send, db);
    figures.numbersLeaked = held.claims + held.leases + held.busyNumbers;
    say(
      `crashes: ${JSON.stringify(figures.crashes.workerKills)} worker kills, ${figures.crashes.httpKills} HTTP kills; ` +
        `${figures.crashes.bookingsEnded}/${everyBooking.length} bookings ended (waited ${Math.round((Date.now() - t) / 1000)} s); ` +
        `left held: ${JSON.stringify(held)}`,
    );

    // 3. Outages.
    await outages(stack, send, db);

    // 4. Booking events, with the platform's receiver down.
    await receiverOutage(stack, send, persons);
    const events = figures.bookingEvents;
    say(
      `booking events: receiver down ${events.receiverDownSeconds} s over ${events.bookings} bookings; ` +
        `${events.delivered}/${events.recorded} delivered (${events.lost} lost, ${events.outOfOrder} out of order, ` +
        `${events.duplicates} duplicates), the last ${events.lastArrivedAfterMs} ms after it came back`,
    );

    // 5. Logs.
    const appLines = stack.lines.filter((line) => /^\[(http|worker-\d+)\]/.test(line));
    figures.logs.appLines = appLines.length;
    figures.logs.unmaskedLines = appLines.filter((line) => unmaskedPhoneNumbers(line).length > 0).length;
    say(`logs: ${figures.logs.unmaskedLines} of ${appLines.length} app log lines show a phone number unmasked`);
  } finally {
    await client.close();
    await stack.stop();
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT.replace(/\.json$/, '') + '.log', stack.lines.join('\n') + '\n');
  }
  return (
    figures.race.violations.length === 0 &&
    figures.crashes.violations.length === 0 &&
    figures.crashes.bookingsNotEnded.length === 0 &&
    figures.crashes.secondNumbersAfterHttpKill === 0 &&
    figures.numbersLeaked === 0 &&
    figures.eventsLost === 0 &&
    figures.bookingEvents.lost === 0 &&
    figures.bookingEvents.unread === 0 &&
    figures.bookingEvents.outOfOrder === 0 &&
    figures.outages.store.invalidAnswers === 0 &&
    figures.outages.store.slowestNoticeMs < NOTICE_WITHIN_MS &&
    figures.outages.store.recoveredAfterMs >= 0 &&
    figures.logs.unmaskedLines === 0
  );
}

const secondWaveIds: string[] = [];

async function crashes(stack: ProcessStack, send: Send, db: Db, firstWave: BookingAttempt[], persons: string[]) {
  const killAndRestart = async (phase: keyof typeof figures.crashes.workerKills) => {
    await sleep(500 + random() * 2_000);
    const worker = Math.floor(random() * WORKERS);
    await stack.killWorker(worker);
    figures.crashes.workerKills[phase] += 1;
    await sleep(random() * 1_500);
    await stack.startWorker(worker);
  };

  // During allocation: a second wave is created (30% of it expiring within seconds) while workers die, and the
  // HTTP server dies twice during creations of its own.
  const wave = raceRequests(SECOND_WAVE, persons, {
    seed: SEED + 1,
    idPrefix: `wave-${SEED}`,
    gracePeriodSeconds: 1,
  }).map((request) => ({ ...request, expiresInSeconds: random() < 0.3 ? 3 + Math.floor(random() * 10) : 3600 }));
  secondWaveIds.push(...wave.map((r) => r.bookingId));
  figures.crashes.secondWave = wave.length;
  let creating = true;
  const creation = createBookings(send, wave, 25).finally(() => (creating = false));
  await killHttpDuringCreation(stack, send, persons, 1);
  for (let round = 0; creating && timeLeft() > 240_000; round++) {
    await killAndRestart('duringAllocation');
    if (round === 1) await killHttpDuringCreation(stack, send, persons, 2);
  }
  const waveAttempts = await creation;
  figures.crashes.violations.push(...checkAnswers(waveAttempts));
  // Attempts cut by a kill, or out of time, are retried: none may have left a claim on a second number.
  const answered = new Map(waveAttempts.filter(allocated).map((a) => [a.request.bookingId, a.virtualNumber]));
  const claims = await db
    .collection<{ _id: string; bookingId: string; virtualNumber: string }>('claims')
    .find({})
    .toArray();
  for (const claim of claims) {
    if (claim.bookingId.startsWith('wave-') && answered.get(claim.bookingId) !== claim.virtualNumber) {
      figures.crashes.violations.push(
        `claim ${claim._id} of ${claim.bookingId} is not on its number ${answered.get(claim.bookingId)}`,
      );
    }
  }

  // While holding: nothing in flight; the expiring bookings' timers fire meanwhile.
  for (let kill = 0; kill < 2; kill++) await killAndRestart('duringHold');

  // During release: every booking ends, half cancelled, half completed (1 s of grace), while workers die.
  const ending = [...firstWave, ...waveAttempts].filter(allocated).map((a) => a.request.bookingId);
  let releasing = true;
  const release = inBatches(ending, 16, async (id) => {
    const action = random() < 0.5 ? 'cancel' : 'complete';
    const { answer } = await sendUntilFinal(send, 'POST', `/v1/bookings/${id}/${action}`, undefined);
    // 409: it had expired by itself, or was already closed.
    if (answer.status !== 202 && answer.status !== 409)
      figures.crashes.violations.push(`${action} ${id}: ${answer.status}`);
  }).finally(() => (releasing = false));
  while (releasing && timeLeft() > 180_000) await killAndRestart('duringRelease');
  await release;
}

/**
 * The platform's receiver of booking events goes down while its bookings end and a worker dies: their events wait
 * in the bookings' outboxes and in the events workflows they hand over to, and must all arrive once it is back.
 */
async function receiverOutage(stack: ProcessStack, send: Send, persons: string[]) {
  const events = figures.bookingEvents;
  const receiver = await EventReceiver.start();
  try {
    const requests = raceRequests(EVENTS_BOOKINGS, persons, {
      seed: SEED + 2,
      idPrefix: `events-${SEED}`,
      gracePeriodSeconds: 1,
    }).map((request) => ({ ...request, callbackUrl: receiver.url }));
    const bookings = (await createBookings(send, requests, 8)).filter(allocated).map((a) => a.request.bookingId);
    events.bookings = bookings.length;

    await receiver.down();
    const downAt = Date.now();
    await inBatches(bookings, 8, async (id) => {
      await sendUntilFinal(send, 'POST', `/v1/bookings/${id}/${random() < 0.5 ? 'cancel' : 'complete'}`, undefined);
    });
    const worker = Math.floor(random() * WORKERS);
    await stack.killWorker(worker);
    await sleep(1_000);
    await stack.startWorker(worker);
    await sleep(Math.max(0, RECEIVER_DOWN_MS - (Date.now() - downAt)));
    await receiver.up();
    const upAt = Date.now();
    events.receiverDownSeconds = Math.round((upAt - downAt) / 1000);

    // What each booking recorded, oldest first, once it has ended (its last event is its end).
    const recorded = new Map<string, string[]>();
    const arrived = () => new Set(receiver.accepted().map((event) => event.id));
    const settled = async (id: string) => {
      const answer = await send('GET', `/v1/bookings/${id}/events`);
      if (answer.status !== 200) return false;
      const records: { event: { id: string; type: string } }[] = answer.body.events;
      const ended = records.some(({ event }) => /^booking\.(completed|cancelled|expired)$/.test(event.type));
      recorded.set(
        id,
        records.map(({ event }) => event.id),
      );
      const got = arrived();
      return ended && records.every(({ event }) => got.has(event.id));
    };
    let pending = [...bookings];
    while (pending.length > 0 && Date.now() - upAt < EVENTS_ARRIVE_WITHIN_MS) {
      const still: string[] = [];
      await inBatches(pending, 8, async (id) => {
        if (!(await settled(id))) still.push(id);
      });
      pending = still;
      if (pending.length > 0) await sleep(1_000);
    }
    const accepted = receiver.accepted();
    const got = new Set(accepted.map((event) => event.id));
    const ids = [...recorded.values()].flat();
    events.recorded = ids.length;
    events.delivered = ids.filter((id) => got.has(id)).length;
    events.lost = events.recorded - events.delivered;
    events.unread = bookings.filter((id) => !recorded.has(id)).length;
    events.duplicates = accepted.length - got.size;
    events.lastArrivedAfterMs = Math.max(0, ...receiver.received.map((request) => request.receivedAt - upAt));
    // In order per booking: the first arrival of each of its events follows the order it recorded them in.
    for (const [bookingId, order] of recorded) {
      const firstArrivals = [...new Set(accepted.filter((e) => e.bookingId === bookingId).map((e) => e.id))];
      if (firstArrivals.join() !== order.filter((id) => got.has(id)).join()) events.outOfOrder += 1;
    }
  } finally {
    await receiver.down();
  }
}

/** Creation requests under way when the HTTP server dies: the retry must return the same booking and number. */
async function killHttpDuringCreation(stack: ProcessStack, send: Send, persons: string[], round: number) {
  const requests = raceRequests(20, persons, {
    seed: SEED + 100 + round,
    idPrefix: `http-kill-${SEED}-${round}`,
    gracePeriodSeconds: 1,
  });
  secondWaveIds.push(...requests.map((r) => r.bookingId));
  const first = Promise.all(requests.map((request) => send('POST', '/v1/bookings', request)));
  await sleep(30 + random() * 150);
  await stack.killHttp();
  figures.crashes.httpKills += 1;
  const firstAnswers = await first;
  figures.crashes.requestsCutByHttpKills += firstAnswers.filter((a) => a.status === 0).length;
  await stack.startHttp();
  const retried = await createBookings(send, requests, 20);
  figures.crashes.violations.push(...checkAnswers(retried));
  for (const attempt of retried) {
    const before = firstAnswers[requests.indexOf(attempt.request)];
    if (before?.status === 201 && before.body.virtualNumber !== attempt.virtualNumber) {
      figures.crashes.secondNumbersAfterHttpKill += 1;
    }
  }
  figures.crashes.violations.push(
    ...(await cancelBookings(
      send,
      retried.filter(allocated).map((a) => a.request.bookingId),
    )),
  );
}

async function outages(stack: ProcessStack, send: Send, db: Db) {
  const rider = '+6591119001';
  const driver = '+6598889001';
  const bookingId = `outage-${SEED}-${Date.now()}`;
  const created = await sendUntilFinal(send, 'POST', '/v1/bookings', {
    bookingId,
    parties: [
      { role: 'rider', number: rider },
      { role: 'driver', number: driver },
    ],
    gracePeriodSeconds: 0,
  });
  const virtualNumber: string = created.answer.body.virtualNumber;

  // The store dies.
  await stack.killStore();
  const store = figures.outages.store;
  for (let call = 0; call < 20; call++) {
    const t = Date.now();
    const answer = await stack.webhook('/call-action', callReceived(rider, virtualNumber));
    store.callActions += 1;
    store.slowestNoticeMs = Math.max(store.slowestNoticeMs, Date.now() - t);
    const notice = actionsOf(answer.body).join() === 'say,hangup';
    if (answer.status !== 200 || !notice || !validateCallActionAnswer(answer.body).valid) store.invalidAnswers += 1;
  }
  let t = Date.now();
  await stack.startStore();
  while (Date.now() - t < 60_000) {
    const answer = await stack.webhook('/call-action', callReceived(rider, virtualNumber));
    if (actionsOf(answer.body)[0] === 'makeCall') {
      store.recoveredAfterMs = Date.now() - t;
      break;
    }
    await sleep(100);
  }
  say(
    `store outage: ${store.callActions} calls answered with the notice, slowest ${store.slowestNoticeMs} ms; routing again after ${store.recoveredAfterMs} ms`,
  );

  // Temporal stops.
  const temporal = figures.outages.temporal;
  await stack.stopTemporal();
  const sessions = Array.from({ length: OUTAGE_EVENTS }, (_, i) => `outage-session-${SEED}-${i}-${Date.now()}`);
  await inBatches(sessions, OUTAGE_EVENTS, async (sessionId) => {
    const connected = await stack.webhook('/call-action', callReceived(driver, virtualNumber, sessionId));
    if (actionsOf(connected.body)[0] === 'makeCall') temporal.callsConnected += 1;
    const events: [string, unknown][] = [
      ['/call-status', callStatus({ sessionId, caller: driver, virtualNumber, callStatus: 'CALL_CONNECTED' })],
      [
        '/session-summary',
        sessionSummary({
          sessionId,
          caller: driver,
          virtualNumber,
          callee: rider,
          sessionStatus: 'COMPLETED',
          durationSeconds: 5,
        }),
      ],
    ];
    for (const [route, body] of events) {
      // As 8x8 does, an event whose webhook got no answer (or a 5xx) is sent again.
      const t = Date.now();
      const { answer, tries } = await sendUntilFinal((_m, r, b) => stack.webhook(r, b), 'POST', route, body, 60_000);
      temporal.slowestEventAnswerMs = Math.max(temporal.slowestEventAnswerMs, Date.now() - t);
      temporal.eventsResent += tries - 1;
      temporal.eventsSent += 1;
      if (answer.status !== 200) temporal.eventsRefused += 1;
    }
  });
  const refusals = Array.from({ length: 3 }, async (_, i) => {
    const answer = await send('POST', '/v1/bookings', {
      bookingId: `outage-refused-${SEED}-${i}`,
      parties: [
        { role: 'rider', number: persons3(i) },
        { role: 'driver', number: driver },
      ],
    });
    const key = `${answer.status} ${answer.body?.error?.code ?? ''}`.trim();
    temporal.creationAnswers[key] = (temporal.creationAnswers[key] ?? 0) + 1;
  });
  await Promise.all(refusals);
  t = Date.now();
  await stack.startTemporal();
  while (Date.now() - t < 120_000) {
    const booking = await send('GET', `/v1/bookings/${bookingId}`);
    const calls: { sessionId: string; endedAt?: string }[] = booking.body?.calls ?? [];
    const done = sessions.filter((id) => calls.some((call) => call.sessionId === id && call.endedAt)).length;
    if (done === sessions.length) {
      temporal.deliveredAfterMs = Date.now() - t;
      break;
    }
    await sleep(500);
  }
  temporal.eventsDelivered = await db
    .collection('callEvents')
    .countDocuments({ sessionId: { $in: sessions }, delivered: true });
  figures.eventsLost = temporal.eventsSent - temporal.eventsDelivered;
  say(
    `Temporal outage: ${temporal.callsConnected}/${sessions.length} calls connected, creation answered ${JSON.stringify(temporal.creationAnswers)}, ` +
      `${temporal.eventsDelivered}/${temporal.eventsSent} events delivered ${temporal.deliveredAfterMs} ms after it came back`,
  );
  await sendUntilFinal(send, 'POST', `/v1/bookings/${bookingId}/cancel`, undefined);
}

const persons3 = (i: number) => `+659777${String(i).padStart(4, '0')}`;

const watchdog = setTimeout(() => {
  say(`time limit of ${TIME_LIMIT_MS / 1000} s reached; giving up`);
  process.exit(2);
}, TIME_LIMIT_MS + 60_000);
watchdog.unref();

main().then(
  (ok) => {
    figures.ok = ok;
    figures.seconds = Math.round((Date.now() - started) / 1000);
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, `${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    say(`${ok ? 'every check held' : 'CHECKS FAILED'}; figures written to ${path.relative(repoRoot, OUT)}`);
    process.exit(ok ? 0 : 1);
  },
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
