import fs from 'node:fs';
import path from 'node:path';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import type { LoadResult } from './loadSpec';
import { describeProfiles, summarizeProfilesIn } from './cpuProfile';
import { cpuMeter, elapsedMs, loadAverage, round, sampleResidentMemory, summarize } from './measure';
import { masklineEnvironment, runLoadGenerator, startProcess, WEBHOOK_SECRET } from './processes';
import { check, fmt, int, type Check } from './report';
import { freePort } from '../scripts/local/ports';
import { SESSION_ID } from './loadSpec';
import { seedStore, stranger, syntheticBookings, virtualNumbers } from './seed';
import type { BenchStack } from './stack';

export interface CallActionSettings {
  bookings: number;
  poolSize: number;
  couriers: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  maxRequests: number;
  /** Distinct webhook bodies, sent in turn. */
  bodies: number;
  /** Share of calls whose (caller, VN) is a live booking. */
  matching: number;
  /** A second run of ours at a steady rate well below saturation: latency without the queueing. */
  steadyRatePerSecond: number;
  steadySeconds: number;
}

export const CALL_ACTION_DEFAULTS: CallActionSettings = {
  bookings: 100_000,
  poolSize: 1_000,
  couriers: 10_000,
  connections: 64,
  durationSeconds: 20,
  warmupSeconds: 3,
  maxRequests: 2_000_000,
  bodies: 5_000,
  matching: 0.9,
  steadyRatePerSecond: 100,
  steadySeconds: 10,
};

interface Endpoint {
  name: 'ours' | 'minimal' | 'minimal+record' | 'bare';
  script: string;
  path: string;
  ready: (line: string) => boolean;
  env?: Record<string, string>;
}

/**
 * Benchmark 1: 8x8's call-action webhook under load, against 100,000 live bookings, for Maskline's real HTTP
 * server and two reference endpoints on the same store (each its own process, one at a time).
 */
export async function callActionBenchmark(
  stack: BenchStack,
  settings: CallActionSettings,
  say: (line: string) => void,
) {
  const databaseName = 'maskline_bench_calls';
  const database = await connectDatabase(stack.mongodbUri(databaseName));
  await database.db.dropDatabase();
  await ensureIndexes(database);
  const pool = virtualNumbers(settings.poolSize);
  const bookings = syntheticBookings({ count: settings.bookings, pool, couriers: settings.couriers, prefix: 'call' });
  const seedStarted = process.hrtime.bigint();
  await seedStore(database, pool, bookings);
  const seedSeconds = elapsedMs(seedStarted) / 1000;
  say(`  seeded ${int(settings.bookings)} bookings on ${int(settings.poolSize)} numbers in ${fmt(seedSeconds)} s`);

  const lookups: number[] = [];
  for (let i = 0; i < 200; i++) {
    const booking = bookings[(i * 7919) % bookings.length]!;
    const started = process.hrtime.bigint();
    await database.collections.claims.findOne({ _id: `${booking.parties[0].number}|${booking.virtualNumber}` });
    lookups.push(elapsedMs(started));
  }
  const lookup = summarize(lookups);
  say(`  one claim lookup by _id, unloaded: mean ${fmt(lookup.mean, 2)} ms, p99 ${fmt(lookup.p99, 2)} ms`);

  const bodiesFile = path.join(stack.logDir, 'call-action-bodies.json');
  fs.writeFileSync(bodiesFile, JSON.stringify(callActionBodies(bookings, pool, settings)));

  const endpoints: Endpoint[] = [
    {
      name: 'ours',
      script: path.join(__dirname, '..', 'src', 'server', 'main.ts'),
      path: '/webhooks/8x8/call-action',
      ready: (line) => line.includes('http server listening'),
    },
    {
      name: 'minimal',
      script: path.join(__dirname, 'servers', 'minimalCallAction.ts'),
      path: '/',
      ready: (line) => line.startsWith('listening'),
    },
    {
      // Diagnostic: the minimal endpoint plus the call-session write ours makes for every connected call.
      name: 'minimal+record',
      script: path.join(__dirname, 'servers', 'minimalCallAction.ts'),
      path: '/',
      ready: (line) => line.startsWith('listening'),
      env: { BENCH_RECORD_SESSION: '1' },
    },
    {
      name: 'bare',
      script: path.join(__dirname, 'servers', 'bareCallAction.ts'),
      path: '/',
      ready: (line) => line.startsWith('listening'),
    },
  ];

  type Run = LoadResult & {
    idleRssMb: number;
    maxRssMb: number;
    loadAverageBefore: number;
    cpuSeconds: Record<string, number>;
    cpuMsPerRequest: Record<string, number>;
    /** Call-session records that reached the store in the 3 s after the load stopped: writes left queued. */
    callSessionsWrittenAfterLoad?: number;
    profile?: unknown;
  };
  const runs: Record<string, Run> = {};
  let steady: (LoadResult & { ratePerSecond: number }) | undefined;
  for (const endpoint of endpoints) {
    const port = await freePort();
    const env = {
      ...masklineEnvironment(stack, { port, database: databaseName, taskQueue: 'bench-call-action' }),
      ...endpoint.env,
    };
    const server = await startProcess(stack, {
      name: `call-action-${endpoint.name}`,
      script: endpoint.script,
      env,
      ready: endpoint.ready,
    });
    const loadAverageBefore = loadAverage();
    const memory = sampleResidentMemory(server.pid!);
    // Where the CPU goes per request: the endpoint's process, and the store it asks.
    const meter = cpuMeter({
      server: server.pid,
      ferretdb: stack.servers.ferretdb,
      postgres: stack.servers.postgres,
    });
    try {
      const result = await runLoadGenerator(
        stack,
        `call-action-${endpoint.name}`,
        {
          url: `http://127.0.0.1:${port}`,
          path: endpoint.path,
          headers: { authorization: WEBHOOK_SECRET },
          connections: settings.connections,
          durationSeconds: settings.durationSeconds,
          warmupSeconds: settings.warmupSeconds,
          maxRequests: settings.maxRequests,
          bodiesFile,
          answers: 'callflow',
        },
        meter,
      );
      const cpuMsPerRequest = Object.fromEntries(
        Object.entries(result.cpuSeconds).map(([name, seconds]) => [
          name,
          round((seconds * 1000) / result.requests, 3),
        ]),
      );
      const rss = memory.stop();
      const writesCallSessions = endpoint.name === 'ours' || endpoint.name === 'minimal+record';
      runs[endpoint.name] = {
        ...result,
        cpuMsPerRequest,
        idleRssMb: round(rss.startMb),
        maxRssMb: round(rss.maxMb),
        loadAverageBefore,
        ...(writesCallSessions ? { callSessionsWrittenAfterLoad: await writesAfterLoad(database) } : {}),
      };
      if (endpoint.name === 'ours' && settings.steadySeconds > 0) {
        const rate = settings.steadyRatePerSecond;
        steady = {
          ratePerSecond: rate,
          ...(await runLoadGenerator(stack, 'call-action-ours-steady', {
            url: `http://127.0.0.1:${port}`,
            path: endpoint.path,
            headers: { authorization: WEBHOOK_SECRET },
            connections: settings.connections,
            ratePerSecond: rate,
            durationSeconds: settings.steadySeconds,
            warmupSeconds: 0,
            maxRequests: rate * settings.steadySeconds * 2,
            bodiesFile,
            answers: 'callflow',
          })),
        };
        say(
          `  ours at a steady ${rate} req/s: p50 ${fmt(steady.latencyMs.p50, 2)} ms, p99 ${fmt(steady.latencyMs.p99, 2)} ms, ` +
            `non-200 ${steady.non200}, errors ${steady.errors}`,
        );
      }
    } finally {
      memory.stop();
      await server.stop();
    }
    if (stack.profileDir) {
      const profile = summarizeProfilesIn(path.join(stack.profileDir, `call-action-${endpoint.name}`));
      runs[endpoint.name]!.profile = profile;
      say(`  ${endpoint.name} profile: ${describeProfiles(profile)}`);
    }
    const run = runs[endpoint.name]!;
    say(
      `  ${endpoint.name.padEnd(14)} ${int(run.requestsPerSecond)} req/s, p50 ${fmt(run.latencyMs.p50, 2)} ms, ` +
        `p99 ${fmt(run.latencyMs.p99, 2)} ms, non-200 ${run.non200}, errors ${run.errors}, ` +
        `RSS ${fmt(run.idleRssMb)} MB idle, ${fmt(run.maxRssMb)} MB max, ` +
        `answers ${JSON.stringify(run.answerKinds)}, CPU ms/request ${JSON.stringify(run.cpuMsPerRequest)}` +
        (run.callSessionsWrittenAfterLoad !== undefined
          ? `, call sessions written in the 3 s after the load: ${run.callSessionsWrittenAfterLoad}`
          : ''),
    );
  }

  await database.close();
  const ours = runs.ours!;
  const minimal = runs.minimal!;
  const bare = runs.bare!;
  const ratioMinimal = ours.requestsPerSecond / minimal.requestsPerSecond;
  const ratioBare = ours.requestsPerSecond / bare.requestsPerSecond;
  const name = '1 call action';
  const checks: Check[] = [
    check(name, 'ours req/s', int(ours.requestsPerSecond), '', null),
    check(name, 'minimal req/s (one lookup)', int(minimal.requestsPerSecond), '', null),
    check(name, 'minimal+record req/s (diagnostic)', int(runs['minimal+record']!.requestsPerSecond), '', null),
    check(name, 'bare req/s (fixed answer)', int(bare.requestsPerSecond), '', null),
    check(name, 'ours / minimal', fmt(ratioMinimal, 2), '>= 0.70', ratioMinimal >= 0.7),
    check(name, 'ours / bare', fmt(ratioBare, 2), '', null),
    check(name, 'ours p50 latency', `${fmt(ours.latencyMs.p50, 2)} ms`, '', null),
    check(name, 'ours p99 latency', `${fmt(ours.latencyMs.p99, 2)} ms`, '<= 20 ms', ours.latencyMs.p99 <= 20),
    check(name, 'minimal p99 latency', `${fmt(minimal.latencyMs.p99, 2)} ms`, '', null),
    ...(steady
      ? [
          check(
            name,
            `ours p50 / p99 at a steady ${steady.ratePerSecond} req/s`,
            `${fmt(steady.latencyMs.p50, 2)} / ${fmt(steady.latencyMs.p99, 2)} ms`,
            '',
            null,
          ),
        ]
      : []),
    check(
      name,
      'ours non-200 (+ no answer)',
      `${ours.non200} (+ ${ours.errors})`,
      '0',
      ours.non200 === 0 && ours.errors === 0,
    ),
    check(name, 'ours max RSS', `${fmt(ours.maxRssMb)} MB`, '<= 250 MB', ours.maxRssMb <= 250),
  ];
  return {
    settings,
    seedSeconds: round(seedSeconds),
    claimLookupUnloadedMs: { mean: round(lookup.mean, 3), p99: round(lookup.p99, 3) },
    runs,
    oursAtSteadyRate: steady,
    ratios: { oursOverMinimal: round(ratioMinimal, 3), oursOverBare: round(ratioBare, 3) },
    checks,
  };
}

/** How many call-session records arrive in the 3 s after the load stopped: writes that were still queued. */
async function writesAfterLoad(database: Database): Promise<number> {
  const before = await database.collections.callSessions.countDocuments({});
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return (await database.collections.callSessions.countDocuments({})) - before;
}

/** Webhook bodies of random calls: `matching` of them from a party of a live booking to its VN, the rest from strangers. */
function callActionBodies(
  bookings: ReturnType<typeof syntheticBookings>,
  pool: readonly string[],
  settings: CallActionSettings,
) {
  const bodies: string[] = [];
  for (let i = 0; i < settings.bodies; i++) {
    let caller: string;
    let virtualNumber: string;
    if (Math.random() < settings.matching) {
      const booking = bookings[Math.floor(Math.random() * bookings.length)]!;
      caller = booking.parties[Math.random() < 0.5 ? 0 : 1].number;
      virtualNumber = booking.virtualNumber;
    } else {
      caller = stranger(i);
      virtualNumber = pool[Math.floor(Math.random() * pool.length)]!;
    }
    // Each call is a new session: the load generator puts a fresh id where SESSION_ID stands.
    bodies.push(JSON.stringify(callReceived(caller, virtualNumber, SESSION_ID)));
  }
  return bodies;
}
