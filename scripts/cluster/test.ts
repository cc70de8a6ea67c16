/**
 * `npm run test:cluster`: Maskline on its production shape (scripts/cluster/stack.ts: the Temporal cluster of
 * docker-compose.yml with one process per service, 2 HTTP servers, 3 workers), on servers of its own in a
 * temporary folder, on free loopback ports. Not part of `npm test`: it builds the Temporal server the first time.
 *
 * 1. The booking story end to end through both HTTP servers, with the booking found through SQL visibility by its
 *    custom search attributes and through the Temporal UI.
 * 2. A fault pass in three phases, bookings created, then called, then ended, through both HTTP servers as the
 *    platform and 8x8 would send them (what got no answer or a 503 is sent again, to the next server). In each
 *    phase a history service, a matching service, a worker and an HTTP server are each killed (SIGKILL) once at a
 *    random point of the phase's work (once a random share of its requests went out: always with work in flight,
 *    whatever the sizes) and started again. Then: every booking ends, nobody held one number in two live bookings
 *    (answers, store and workflows), every call reached the other party of its booking, 0 numbers held,
 *    0 call events lost, every 503 said Retry-After.
 * 3. No phone number unmasked in any line the app processes wrote; no process died that was not killed.
 *
 * Prints each check, its figures as JSON (also written to CLUSTER_TEST_OUT, default .data/cluster-test/latest.json,
 * every process's output beside it as .log), and ends with `N passed, N failed`; exit code 0 only when all passed.
 * Env: CLUSTER_TEST_BOOKINGS (240), CLUSTER_TEST_PEOPLE (60), CLUSTER_TEST_NUMBERS (12), CLUSTER_TEST_CONCURRENCY (12),
 * CLUSTER_TEST_SEED (1), CLUSTER_TEST_TIME_LIMIT_S (900).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { MongoClient, type Db } from 'mongodb';
import { dataDirs, repoRoot } from '../local/paths';
import { unmaskedPhoneNumbers } from '../logScan';
import { callReceived, callStatus, sessionSummary } from '../../src/eightbyeight/simulatedWebhooks';
import {
  allocated,
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
  type Send,
} from '../../harness/bookingRace';
import { validateCallActionAnswer } from '../../harness/eightbyeightSchemas';
import { ClusterStack, type ClusterAnswer } from './stack';

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const BOOKINGS = setting('CLUSTER_TEST_BOOKINGS', 240);
const PEOPLE = setting('CLUSTER_TEST_PEOPLE', 60);
const NUMBERS = setting('CLUSTER_TEST_NUMBERS', 12);
const CONCURRENCY = setting('CLUSTER_TEST_CONCURRENCY', 12);
const SEED = setting('CLUSTER_TEST_SEED', 1);
const TIME_LIMIT_MS = setting('CLUSTER_TEST_TIME_LIMIT_S', 900) * 1000;
const OUT = process.env.CLUSTER_TEST_OUT ?? path.join(dataDirs.root, 'cluster-test', 'latest.json');
const KINDS = ['temporal-history', 'temporal-matching', 'worker', 'http'] as const;
type Kind = (typeof KINDS)[number];
type Phase = 'create' | 'call' | 'end';

const STORY_NUMBERS = ['+6560009001', '+6560009002'];
const API_KEY = 'cluster-test-api-key-0123456789';
const WEBHOOK_SECRET = 'cluster-test-webhook-secret-0123456789';
const ENCRYPTION_KEYS = `cluster-test-1:${Buffer.alloc(32, 5).toString('base64')}`;

const started = Date.now();
const random = seeded(SEED);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const say = (message: string) => process.stdout.write(`[test:cluster ${elapsed()}] ${message}\n`);

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}
const checks: Check[] = [];
function check(name: string, ok: boolean, detail = ''): void {
  checks.push({ name, ok, detail });
  process.stdout.write(`${ok ? '  ok  ' : '  FAIL'} ${name}${detail ? ` (${detail})` : ''}\n`);
}

/** What the platform and 8x8 saw: answers by status, 503s with and without Retry-After, requests unanswered. */
interface Seen {
  answers: Record<string, number>;
  serviceUnavailable: number;
  serviceUnavailableWithoutRetryAfter: number;
  noAnswer: number;
}
const newSeen = (): Seen => ({
  answers: {},
  serviceUnavailable: 0,
  serviceUnavailableWithoutRetryAfter: 0,
  noAnswer: 0,
});

const figures = {
  settings: { bookings: BOOKINGS, people: PEOPLE, numbers: NUMBERS, concurrency: CONCURRENCY, seed: SEED },
  startupSeconds: 0,
  storySeconds: 0,
  phases: {} as Record<
    Phase,
    {
      seconds: number;
      kills: {
        kind: Kind;
        process: string;
        atSecond: number;
        downSeconds: number;
        restartSeconds: number;
        inFlight: boolean;
      }[];
      platform: Seen;
      eightByEight: Seen;
    }
  >,
  bookings: { created: 0, refused: 0, ended: 0, notEnded: [] as string[], retriedRequests: 0, endedByAnEarlierTry: 0 },
  crossings: [] as string[],
  calls: { sessions: 0, connectedToTheOtherParty: 0, wrongAnswers: [] as string[], redialled: 0 },
  events: { sent: 0, delivered: 0, lost: -1, deliveredWithinSeconds: -1 },
  numbersHeld: { claims: -1, leases: -1, busyNumbers: -1 },
  logs: { appLines: 0, unmaskedLines: 0 },
  unexpectedExits: [] as string[],
  seconds: 0,
};

async function main(): Promise<void> {
  // Straight under the temporary folder: as root, PostgreSQL's own user (nobody) must be able to reach it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-cluster-test-'));
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  const log = fs.createWriteStream(OUT.replace(/\.json$/, '') + '.log');
  const appLines: string[] = [];
  const stack = new ClusterStack({
    dataDir: dir,
    durable: false,
    httpPorts: [0, 0],
    workers: 3,
    history: 2,
    matching: 2,
    frontendPort: 0,
    uiPort: 0,
    appEnv: {
      MASKLINE_API_KEY: API_KEY,
      MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
      LOG_LEVEL: 'info',
    },
    output: (source, line) => {
      log.write(`[${source}] ${line}\n`);
      if (/^(http|worker)-\d+$/.test(source)) appLines.push(line);
    },
    say,
  });
  stack.supervisor.removeIfAbandoned(dir);
  try {
    await stack.start();
    figures.startupSeconds = Math.round((Date.now() - started) / 1000);
    say(`cluster ready in ${figures.startupSeconds} s`);
    const client = await MongoClient.connect(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
    try {
      let t = Date.now();
      await story(stack);
      figures.storySeconds = Math.round((Date.now() - t) / 1000);
      t = Date.now();
      await faultPass(stack, client.db());
      say(`fault pass done in ${Math.round((Date.now() - t) / 1000)} s`);
    } finally {
      await client.close();
    }
    figures.logs.appLines = appLines.length;
    figures.logs.unmaskedLines = appLines.filter((line) => unmaskedPhoneNumbers(line).length > 0).length;
    check(
      'no phone number appears unmasked in any line the HTTP servers and workers wrote',
      figures.logs.unmaskedLines === 0,
      `${figures.logs.unmaskedLines} of ${appLines.length} lines`,
    );
    figures.unexpectedExits = [...stack.unexpectedExits];
    check(
      'no process of the cluster died that was not killed by the test',
      stack.unexpectedExits.length === 0,
      stack.unexpectedExits.join('; '),
    );
  } finally {
    await stack.stop({ kill: true });
    log.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The booking story, each step through the server the other one did not take. */
async function story(stack: ClusterStack): Promise<void> {
  say('the booking story, through both HTTP servers');
  const rider = '+6591110001';
  const driver = '+6598880001';
  const stranger = '+6581110001';
  const bookingId = `story-${SEED}-${Date.now()}`;
  for (const number of STORY_NUMBERS) {
    const added = await stack.api('POST', '/v1/numbers', { number }, 0);
    if (added.status !== 201) throw new Error(`adding ${number}: ${added.status} ${JSON.stringify(added.body)}`);
  }
  const request = {
    bookingId,
    parties: [
      { role: 'rider', number: rider },
      { role: 'driver', number: driver },
    ],
    gracePeriodSeconds: 0,
  };
  const created = await stack.api('POST', '/v1/bookings', request, 0);
  const virtualNumber: string = created.body?.virtualNumber;
  check(
    'a booking created through HTTP server 1 answers 201 with a virtual number',
    created.status === 201 && /^\+65600090\d\d$/.test(virtualNumber ?? ''),
    `${created.status}`,
  );
  const again = await stack.api('POST', '/v1/bookings', request, 1);
  check(
    'the same request through HTTP server 2 answers 200 with the same number',
    again.status === 200 && again.body?.virtualNumber === virtualNumber,
    `${again.status}`,
  );
  const read = await stack.api('GET', `/v1/bookings/${bookingId}`, undefined, 1);
  check(
    'HTTP server 2 reads the booking as active on that number',
    read.status === 200 && read.body?.status === 'active' && read.body?.virtualNumber === virtualNumber,
    `${read.status} ${read.body?.status}`,
  );

  // SQL visibility on PostgreSQL, queried by the custom search attributes the setup script registered.
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const temporal = new Client({ connection, namespace: stack.namespace });
    const query = `BookingStatus = "active" AND VirtualNumber = "${virtualNumber}"`;
    let found: string[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(500)) {
      found = [];
      for await (const execution of temporal.workflow.list({ query })) found.push(execution.workflowId);
      if (found.includes(`booking-${bookingId}`)) break;
    }
    check(
      "Temporal's SQL visibility finds the booking by its search attributes BookingStatus and VirtualNumber",
      found.includes(`booking-${bookingId}`),
      `${found.length} found`,
    );
  } finally {
    await connection.close();
  }
  const ui = await fetch(
    `${stack.uiUrl}/api/v1/namespaces/${stack.namespace}/workflows?query=${encodeURIComponent(`WorkflowId = "booking-${bookingId}"`)}`,
    { signal: AbortSignal.timeout(10_000) },
  ).then(
    async (response) => ({ status: response.status, text: await response.text() }),
    (error: unknown) => ({ status: 0, text: String(error) }),
  );
  check(
    'the Temporal UI server lists the booking workflow from the cluster',
    ui.status === 200 && ui.text.includes(`booking-${bookingId}`),
    `${ui.status}`,
  );

  const sessionId = `story-session-${Date.now()}`;
  const call = await stack.webhook('/call-action', callReceived(rider, virtualNumber, sessionId), 1);
  const step = call.body?.callflow?.[0];
  check(
    "the rider's call through HTTP server 2 is put through to the driver, who sees the virtual number",
    call.status === 200 &&
      validateCallActionAnswer(call.body).valid &&
      step?.action === 'makeCall' &&
      step.params?.destination === driver &&
      step.params?.source === virtualNumber,
    `${call.status} ${step?.action}`,
  );
  const strangerCall = await stack.webhook('/call-action', callReceived(stranger, virtualNumber), 0);
  const actions = (strangerCall.body?.callflow ?? []).map((s: { action: string }) => s.action).join(',');
  check('a stranger calling the number through HTTP server 1 hears the notice', actions === 'say,hangup', actions);
  const status = await stack.webhook(
    '/call-status',
    callStatus({ sessionId, caller: rider, virtualNumber, callStatus: 'CALL_CONNECTED' }),
    0,
  );
  const summary = await stack.webhook(
    '/session-summary',
    sessionSummary({
      sessionId,
      caller: rider,
      virtualNumber,
      callee: driver,
      sessionStatus: 'COMPLETED',
      durationSeconds: 42,
    }),
    1,
  );
  let recorded: { sessionId: string; endedAt?: string; durationSeconds?: number } | undefined;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !recorded?.endedAt; await sleep(300)) {
    const booking = await stack.api('GET', `/v1/bookings/${bookingId}`, undefined, 0);
    recorded = (booking.body?.calls ?? []).find((c: { sessionId: string }) => c.sessionId === sessionId);
  }
  check(
    'the call status (server 1) and the session summary (server 2) reach the booking: the call is on it, ended, 42 s',
    status.status === 200 && summary.status === 200 && !!recorded?.endedAt && recorded.durationSeconds === 42,
    `${status.status}/${summary.status} ${JSON.stringify(recorded ?? null)}`,
  );

  const completed = await stack.api('POST', `/v1/bookings/${bookingId}/complete`, undefined, 1);
  const notEnded = await waitUntilEnded(sender(stack), [bookingId], 60_000);
  const numbers = await stack.api('GET', '/v1/numbers', undefined, 0);
  const number = (numbers.body?.numbers ?? []).find((n: { number: string }) => n.number === virtualNumber);
  check(
    'completed through HTTP server 2, the booking ends and its number is free again on server 1',
    completed.status === 202 && notEnded.length === 0 && number?.liveBookings === 0,
    `${completed.status}, ended: ${notEnded.length === 0}, liveBookings ${number?.liveBookings}`,
  );
}

/** A Send for the shared checks: the next HTTP server in turn (a retry goes to the other one), counted in `seen`. */
function sender(stack: ClusterStack, seen?: Seen): Send {
  return async (method, route, body) => {
    const answer = await stack.api(method, route, body);
    if (seen) count(seen, answer);
    return answer;
  };
}

function webhookSender(stack: ClusterStack, seen: Seen): Send {
  return async (_method, route, body) => {
    const answer = await stack.webhook(route, body);
    count(seen, answer);
    return answer;
  };
}

function count(seen: Seen, answer: ClusterAnswer): void {
  const key = answer.status === 0 ? 'none' : String(answer.status);
  seen.answers[key] = (seen.answers[key] ?? 0) + 1;
  if (answer.status === 0) seen.noAnswer += 1;
  if (answer.status === 503) {
    seen.serviceUnavailable += 1;
    if (!answer.retryAfter) seen.serviceUnavailableWithoutRetryAfter += 1;
  }
}

/** How far a phase's work is: items sent (answered: for createBookings), of how many. */
interface Progress {
  sent: number;
  answered: number;
  total: number;
}

/**
 * While `work` runs: one process of each kind killed once the work has sent a random share (5-60 %) of its
 * items, so with work in flight however small or fast the phase, each started again after a random pause.
 * Resolves once the work is done and every process is back.
 */
async function withKills<T>(
  stack: ClusterStack,
  phase: Phase,
  total: number,
  work: (seen: { platform: Seen; eightByEight: Seen }, progress: Progress) => Promise<T>,
): Promise<T> {
  const phaseStarted = Date.now();
  const record = {
    seconds: 0,
    kills: [] as (typeof figures.phases)[Phase]['kills'],
    platform: newSeen(),
    eightByEight: newSeen(),
  };
  figures.phases[phase] = record;
  let working = true;
  const progress: Progress = { sent: 0, answered: 0, total };
  const result = work(record, progress).finally(() => (working = false));
  // Each kind's kill at a point of the work of its own: outages may overlap.
  const moments = KINDS.map((kind) => ({ kind, share: 0.05 + random() * 0.55, down: 500 + random() * 2_500 }));
  const kills = Promise.all(
    moments.map(async ({ kind, share, down }) => {
      while (working && progress.sent < share * total) await sleep(50);
      const names = stack.names(kind);
      const name = names[Math.floor(random() * names.length)]!;
      const inFlight = working;
      const atSecond = (Date.now() - phaseStarted) / 1000;
      await stack.kill(name);
      await sleep(down);
      const restarting = Date.now();
      await stack.startProcess(name);
      const restartSeconds = (Date.now() - restarting) / 1000;
      record.kills.push({
        kind,
        process: name,
        atSecond: round(atSecond),
        downSeconds: round(down / 1000),
        restartSeconds: round(restartSeconds),
        inFlight,
      });
      say(
        `  ${phase}: killed ${name} at ${round(atSecond)} s${inFlight ? ' (work in flight)' : ''}, ` +
          `back ${round(down / 1000 + restartSeconds)} s later`,
      );
    }),
  );
  const [value] = await Promise.all([result, kills]);
  record.seconds = round((Date.now() - phaseStarted) / 1000);
  say(
    `  ${phase}: ${record.seconds} s; the platform saw ${JSON.stringify(record.platform.answers)}, ` +
      `8x8 saw ${JSON.stringify(record.eightByEight.answers)} (none: no answer)`,
  );
  return value;
}

const round = (n: number) => Math.round(n * 10) / 10;

async function faultPass(stack: ClusterStack, db: Db): Promise<void> {
  say(`fault pass: ${BOOKINGS} bookings over ${PEOPLE} people and ${NUMBERS} numbers, ${CONCURRENCY} at a time`);
  const pool = virtualNumbers(NUMBERS, '6100');
  await inBatches(pool, 4, async (number) => {
    const { answer } = await sendUntilFinal(sender(stack), 'POST', '/v1/numbers', { number });
    if (answer.status !== 201) throw new Error(`adding ${number}: ${answer.status}`);
  });
  const persons = people(PEOPLE, '9700');
  const requests = raceRequests(BOOKINGS, persons, {
    seed: SEED,
    idPrefix: `fault-${SEED}-${Date.now()}`,
    gracePeriodSeconds: 1,
  });

  // 1. Created.
  const attempts = await withKills(stack, 'create', requests.length, (seen, progress) =>
    createBookings(sender(stack, seen.platform), requests, CONCURRENCY, progress),
  );
  // The story's numbers are in the pool too, free again.
  const live = await checkLiveBookings(sender(stack), db, attempts, [...STORY_NUMBERS, ...pool]);
  const answerViolations = checkAnswers(attempts);
  figures.crossings = live.violations;
  Object.assign(figures.bookings, {
    created: live.allocatedCount,
    refused: live.refusals,
    retriedRequests: attempts.reduce((sum, a) => sum + a.tries - 1, 0),
  });
  say(`  created ${live.allocatedCount}, refused ${live.refusals} (every refusal a true exhaustion or a violation)`);
  check(
    'while processes die, every creation is answered with a number or a refusal for lack of one',
    answerViolations.length === 0 && attempts.length === requests.length,
    `${answerViolations.length} other answers: ${answerViolations.slice(0, 3).join('; ')}`,
  );
  check(
    'nobody holds one virtual number in two live bookings (answers, store, workflows), and every refusal is a true exhaustion',
    live.violations.length === 0,
    `${live.violations.length} crossings or false refusals: ${live.violations.slice(0, 3).join('; ')}`,
  );

  // 2. Called: every booking's first party calls its number; the call must reach the other party.
  const booked = attempts.filter(allocated);
  const sessions: string[] = [];
  await withKills(stack, 'call', booked.length, async (seen, progress) => {
    const hooks = webhookSender(stack, seen.eightByEight);
    await inBatches(booked, CONCURRENCY, async (attempt) => {
      progress.sent += 1;
      const [caller, callee] = attempt.request.parties.map((p) => p.number) as [string, string];
      const virtualNumber = attempt.virtualNumber!;
      const sessionId = `${attempt.request.bookingId}-call`;
      sessions.push(sessionId);
      figures.calls.sessions += 1;
      // A call that got no answer is dialled again, as a caller would.
      let answer = await hooks('POST', '/call-action', callReceived(caller, virtualNumber, sessionId));
      for (let redial = 0; answer.status === 0 && redial < 10; redial++) {
        figures.calls.redialled += 1;
        await sleep(300);
        answer = await hooks('POST', '/call-action', callReceived(caller, virtualNumber, sessionId));
      }
      const step = answer.body?.callflow?.[0];
      if (
        answer.status === 200 &&
        validateCallActionAnswer(answer.body).valid &&
        step?.action === 'makeCall' &&
        step.params?.destination === callee &&
        step.params?.source === virtualNumber
      ) {
        figures.calls.connectedToTheOtherParty += 1;
      } else {
        figures.calls.wrongAnswers.push(
          `${sessionId}: ${answer.status} ${JSON.stringify(answer.body?.callflow ?? answer.body)}`,
        );
      }
      for (const [route, body] of [
        ['/call-status', callStatus({ sessionId, caller, virtualNumber, callStatus: 'CALL_CONNECTED' })],
        [
          '/session-summary',
          sessionSummary({ sessionId, caller, virtualNumber, callee, sessionStatus: 'COMPLETED', durationSeconds: 30 }),
        ],
      ] as const) {
        // As 8x8 does, an event whose webhook got no answer (or a 5xx) is sent again.
        const { answer: final } = await sendUntilFinal(hooks, 'POST', route, body, 120_000);
        if (final.status === 200) figures.events.sent += 1;
        else figures.calls.wrongAnswers.push(`${sessionId} ${route}: ${final.status}`);
      }
    });
  });
  check(
    'while processes die, every call connects the caller to the other party of their booking, on its number',
    figures.calls.connectedToTheOtherParty === booked.length && figures.calls.wrongAnswers.length === 0,
    `${figures.calls.connectedToTheOtherParty}/${booked.length}; ${figures.calls.wrongAnswers.slice(0, 3).join('; ')}`,
  );
  const t = Date.now();
  const byBooking = new Map(booked.map((a) => [`${a.request.bookingId}-call`, a.request.bookingId]));
  let pending = [...sessions];
  while (pending.length > 0 && Date.now() - t < 120_000) {
    const still: string[] = [];
    await inBatches(pending, 12, async (sessionId) => {
      const booking = await stack.api('GET', `/v1/bookings/${byBooking.get(sessionId)}`);
      const calls: { sessionId: string; endedAt?: string }[] = booking.body?.calls ?? [];
      if (!calls.some((c) => c.sessionId === sessionId && c.endedAt)) still.push(sessionId);
    });
    pending = still;
    if (pending.length > 0) await sleep(500);
  }
  if (pending.length === 0) figures.events.deliveredWithinSeconds = round((Date.now() - t) / 1000);
  figures.events.delivered = await db
    .collection('callEvents')
    .countDocuments({ sessionId: { $in: sessions }, delivered: true });
  figures.events.lost = figures.events.sent - figures.events.delivered;
  check(
    'every call event 8x8 had an answer for reaches its booking: 0 lost',
    figures.events.lost === 0 && pending.length === 0,
    `${figures.events.delivered}/${figures.events.sent} delivered; ${pending.length} calls not ended on their booking`,
  );

  // 3. Ended: half cancelled, half completed (1 s of grace).
  const endViolations: string[] = [];
  await withKills(stack, 'end', booked.length, (seen, progress) =>
    inBatches(booked, CONCURRENCY, async (attempt) => {
      progress.sent += 1;
      const action = random() < 0.5 ? 'cancel' : 'complete';
      const { answer, tries } = await sendUntilFinal(
        sender(stack, seen.platform),
        'POST',
        `/v1/bookings/${attempt.request.bookingId}/${action}`,
        undefined,
      );
      // booking_closed only for a request sent again: its first try ended the booking but its answer was lost.
      const closedByEarlierTry = answer.status === 409 && answer.body?.error?.code === 'booking_closed' && tries > 1;
      if (answer.status === 409) figures.bookings.endedByAnEarlierTry += closedByEarlierTry ? 1 : 0;
      if (answer.status !== 202 && !closedByEarlierTry)
        endViolations.push(`${action} ${attempt.request.bookingId}: ${answer.status} ${answer.body?.error?.code}`);
    }),
  );
  const everyBooking = attempts.map((a) => a.request.bookingId);
  figures.bookings.notEnded = await waitUntilEnded(
    sender(stack),
    everyBooking,
    Math.max(60_000, TIME_LIMIT_MS - (Date.now() - started) - 60_000),
  );
  figures.bookings.ended = everyBooking.length - figures.bookings.notEnded.length;
  check(
    'every booking ends once cancelled or completed (202, or booking_closed for a retry), processes dying meanwhile',
    endViolations.length === 0 && figures.bookings.notEnded.length === 0,
    `${figures.bookings.ended}/${everyBooking.length} ended; ${endViolations.slice(0, 3).join('; ')}`,
  );
  figures.numbersHeld = await heldNumbers(sender(stack), db);
  const held = figures.numbersHeld;
  check(
    'no virtual number stays held: 0 claims, 0 pairings, 0 numbers with live bookings',
    held.claims + held.leases + held.busyNumbers === 0,
    JSON.stringify(held),
  );

  const phases = Object.values(figures.phases);
  const killedKinds = (p: (typeof phases)[number]) => new Set(p.kills.map((k) => k.kind)).size;
  check(
    'in every phase a history service, a matching service, a worker and an HTTP server were killed with work in flight and came back',
    phases.length === 3 && phases.every((p) => killedKinds(p) === KINDS.length && p.kills.every((k) => k.inFlight)),
    phases
      .map((p) => `${p.kills.filter((k) => k.inFlight).length}/${p.kills.length} while work was in flight`)
      .join(', '),
  );
  const all = phases.flatMap((p) => [p.platform, p.eightByEight]);
  const unavailable = all.reduce((sum, s) => sum + s.serviceUnavailable, 0);
  const withoutRetryAfter = all.reduce((sum, s) => sum + s.serviceUnavailableWithoutRetryAfter, 0);
  check(
    'every 503 the platform or 8x8 saw said when to try again (Retry-After)',
    withoutRetryAfter === 0,
    `${unavailable} 503s, ${withoutRetryAfter} without`,
  );
  const others = all.flatMap((s) => Object.keys(s.answers)).filter((status) => /^5/.test(status) && status !== '503');
  check('no request was answered with a 5xx other than 503', others.length === 0, [...new Set(others)].join(', '));
}

const watchdog = setTimeout(() => {
  say(`time limit of ${TIME_LIMIT_MS / 1000} s reached; giving up`);
  process.exit(2);
}, TIME_LIMIT_MS + 120_000);
watchdog.unref();

main()
  .catch((error: unknown) => {
    check(
      'the cluster starts and the test runs to its end',
      false,
      error instanceof Error ? (error.stack ?? error.message) : String(error),
    );
  })
  .finally(() => {
    figures.seconds = Math.round((Date.now() - started) / 1000);
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, `${JSON.stringify({ ...figures, checks }, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    say(
      `figures in ${path.relative(repoRoot, OUT)}, every process's output in ${path.relative(repoRoot, OUT.replace(/\.json$/, '.log'))}`,
    );
    const failed = checks.filter((c) => !c.ok).length;
    process.stdout.write(`${checks.length - failed} passed, ${failed} failed\n`);
    process.exit(failed === 0 && checks.length > 0 ? 0 : 1);
  });
