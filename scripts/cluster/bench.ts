/**
 * `npm run bench:cluster [-- --runs dev:1,cluster:1,cluster:3] [-- --seconds 20]`: booking creation and the call
 * action on the production shape (scripts/cluster/stack.ts: the Temporal cluster on PostgreSQL, one process per
 * service) beside the single-process dev server, and with 1 or 3 workers. Each run is a stack of its own, started
 * and stopped in turn, that differs from the others only in its Temporal and its number of workers: the same store
 * (FerretDB on PostgreSQL, durable), one HTTP server, the compiled app in production mode, and bench/loadgen.ts
 * (autocannon in a process of its own) as the load, as `npm run bench` measures benchmarks 1 and 3.
 *
 * 1. Booking creation: POST /v1/bookings, every booking new with parties of its own, on a pool of 200 numbers,
 *    20 connections in a closed loop.
 * 2. Call action: 8x8's call-action webhook, 64 connections, over the bookings run 1 just created (their claims, as
 *    the store holds them): 90 % a party calling its booking's number, 10 % a stranger calling one.
 *
 * Prints one line per run and writes every figure to .data/cluster-bench/latest.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { SESSION_ID, type LoadResult, type LoadSpec } from '../../bench/loadSpec';
import { virtualNumbers } from '../../bench/seed';
import { callReceived } from '../../src/eightbyeight/simulatedWebhooks';
import { dataDirs, repoRoot } from '../local/paths';
import { ClusterStack } from './stack';

const API_KEY = 'cluster-bench-api-key-0123456789';
const WEBHOOK_SECRET = 'cluster-bench-webhook-secret-0123456789';
const ENCRYPTION_KEYS = `cluster-bench-1:${Buffer.alloc(32, 7).toString('base64')}`;
const POOL = 200;
const OUT = path.join(dataDirs.root, 'cluster-bench', 'latest.json');

const say = (line: string) => process.stderr.write(`[bench:cluster] ${line}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const loadAverage = () => round(os.loadavg()[0]!, 2);

interface Run {
  temporal: 'dev' | 'cluster';
  workers: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: 'dev:1,cluster:1,cluster:3' },
      seconds: { type: 'string', default: '20' },
    },
  });
  const seconds = Number(values.seconds);
  const runs: Run[] = values.runs!.split(',').map((run) => {
    const [temporal, workers] = run.trim().split(':');
    if ((temporal !== 'dev' && temporal !== 'cluster') || !Number.isInteger(Number(workers)) || Number(workers) < 1)
      throw new Error(`--runs: ${run} is not dev:<workers> or cluster:<workers>`);
    return { temporal, workers: Number(workers) };
  });
  const results = [];
  for (const run of runs) results.push(await measure(run, seconds));
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(
    OUT,
    `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, seconds, results }, null, 2)}\n`,
  );
  say(`every figure in ${path.relative(repoRoot, OUT)}`);
  process.stdout.write(
    '| Temporal | workers | bookings/s | p50 | p95 | other answers | call actions/s | p50 | p99 | connected / notice |\n' +
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n',
  );
  for (const r of results) {
    const b = r.bookings;
    const c = r.calls;
    process.stdout.write(
      `| ${r.temporal} | ${r.workers} | ${b.perSecond} | ${b.p50Ms} ms | ${b.p95Ms} ms | ${b.otherAnswers} | ` +
        `${c.perSecond} | ${c.p50Ms} ms | ${c.p99Ms} ms | ${c.connected} / ${c.notice} |\n`,
    );
  }
}

async function measure(run: Run, seconds: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-cluster-bench-'));
  fs.chmodSync(dir, 0o755); // PostgreSQL's user (nobody, when we are root) reaches its data through it
  const log = fs.createWriteStream(path.join(dir, 'processes.log'));
  const stack = new ClusterStack({
    dataDir: dir,
    durable: true,
    httpPorts: [0],
    workers: run.workers,
    history: 2,
    matching: 2,
    frontendPort: 0,
    temporal: run.temporal,
    appEnv: {
      MASKLINE_API_KEY: API_KEY,
      MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
      LOG_LEVEL: 'info',
    },
    output: (source, line) => log.write(`[${source}] ${line}\n`),
    say: (message) => say(`${run.temporal}:${run.workers} ${message}`),
  });
  stack.supervisor.removeIfAbandoned(dir);
  try {
    const startedAt = Date.now();
    await stack.start();
    const startupSeconds = round((Date.now() - startedAt) / 1000);
    const pool = virtualNumbers(POOL);
    for (let i = 0; i < pool.length; i += 10) {
      await Promise.all(
        pool.slice(i, i + 10).map(async (number) => {
          const answer = await stack.api('POST', '/v1/numbers', { number }, 0);
          if (answer.status !== 201)
            throw new Error(`adding ${number}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }),
      );
    }
    const loadBefore = loadAverage();
    const bookings = await load(stack, dir, 'bookings', {
      url: stack.baseUrl(0),
      path: '/v1/bookings',
      headers: { authorization: `Bearer ${API_KEY}` },
      connections: 20,
      durationSeconds: seconds,
      warmupSeconds: 3,
      maxRequests: 100_000,
      bookingPrefix: `cluster-bench-${Date.now().toString(36)}`,
      answers: 'booking',
    });
    const created = bookings.answerKinds.withNumber ?? 0;

    // The bookings just made, as 8x8 would call them: a party and its booking's number (the claims), or a stranger.
    const client = await MongoClient.connect(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
    let claims: { party: string; virtualNumber: string }[];
    try {
      claims = await client
        .db()
        .collection<{ party: string; virtualNumber: string }>('claims')
        .find({}, { projection: { _id: 0, party: 1, virtualNumber: 1 } })
        .limit(5_000)
        .toArray();
    } finally {
      await client.close();
    }
    if (claims.length === 0) throw new Error('no claims in the store after the booking load');
    const bodies = claims.map((claim, i) =>
      JSON.stringify(
        i % 10 === 9
          ? callReceived(`+659${String(8_000_000 + i).padStart(7, '0')}`, claim.virtualNumber, SESSION_ID)
          : callReceived(claim.party, claim.virtualNumber, SESSION_ID),
      ),
    );
    const bodiesFile = path.join(dir, 'call-action-bodies.json');
    fs.writeFileSync(bodiesFile, JSON.stringify(bodies));
    const calls = await load(stack, dir, 'calls', {
      url: stack.baseUrl(0),
      path: '/webhooks/8x8/call-action',
      headers: { authorization: WEBHOOK_SECRET },
      connections: 64,
      durationSeconds: Math.min(seconds, 15),
      warmupSeconds: 3,
      maxRequests: 2_000_000,
      bodiesFile,
      answers: 'callflow',
    });
    const result = {
      temporal: run.temporal,
      workers: run.workers,
      startupSeconds,
      loadAverageBefore: loadBefore,
      bookings: {
        created,
        perSecond: round(created / bookings.durationSeconds),
        p50Ms: round(bookings.latencyMs.p50),
        p95Ms: round(bookings.latencyMs.p95),
        otherAnswers: bookings.requests - created + bookings.errors,
        statusCounts: bookings.statusCounts,
      },
      calls: {
        bookingsCalled: claims.length / 2,
        perSecond: round(calls.requestsPerSecond),
        p50Ms: round(calls.latencyMs.p50, 2),
        p99Ms: round(calls.latencyMs.p99, 2),
        connected: calls.answerKinds.connected ?? 0,
        notice: calls.answerKinds.notice ?? 0,
        other: (calls.answerKinds.other ?? 0) + calls.errors,
        statusCounts: calls.statusCounts,
      },
      unexpectedExits: [...stack.unexpectedExits],
      loadAverageAfter: loadAverage(),
    };
    say(`${run.temporal}:${run.workers} ${JSON.stringify(result)}`);
    return result;
  } finally {
    await stack.stop();
    log.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** bench/loadgen.ts in a process of its own; its `RESULT {...}` line. */
async function load(stack: ClusterStack, dir: string, name: string, spec: LoadSpec): Promise<LoadResult> {
  const generator = stack.supervisor.spawn(
    `loadgen-${name}`,
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'bench', 'loadgen.ts'), JSON.stringify(spec)],
    { output: (line) => fs.appendFileSync(path.join(dir, `loadgen-${name}.log`), `${line}\n`) },
  );
  try {
    const line = await generator.waitForLine(
      (l) => l.startsWith('RESULT '),
      (spec.warmupSeconds + spec.durationSeconds + 60) * 1000,
      'its result',
    );
    return JSON.parse(line.slice('RESULT '.length)) as LoadResult;
  } finally {
    await generator.stop(5_000);
  }
}

main().catch((error: unknown) => {
  say(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
