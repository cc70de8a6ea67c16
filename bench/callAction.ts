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
  /**
   * Runs of ours at steady open-loop rates below saturation (one request every 1/rate s, whatever the answers):
   * latency without the queueing of a closed loop. The target is held at 1,000 calls/s.
   */
  steady: { ratePerSecond: number; seconds: number }[];
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
  steady: [
    { ratePerSecond: 100, seconds: 10 },
    { ratePerSecond: 1_000, seconds: 20 },
  ],
};

/** The steady rate the call action's latency target is held at (issue 12). */
const STEADY_TARGET_RATE = 1_000;

interface Endpoint {
  name: 'ours' | 'ours, metrics off' | 'minimal' | 'minimal+record' | 'bare';
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
      // Scraped during the load every 15 s, as Prometheus does by default and as often as the store figures are
      // read again: each scrape costs the store its reads. The first scrape is at the start.
      env: { MASKLINE_METRICS_TOKEN: METRICS_TOKEN },
    },
    {
      // The same server with the call-action path recording no metrics: what the metrics cost.
      name: 'ours, metrics off',
      script: path.join(__dirname, '..', 'src', 'server', 'main.ts'),
      path: '/webhooks/8x8/call-action',
      ready: (line) => line.includes('http server listening'),
      env: { MASKLINE_METRICS_ENABLED: 'false' },
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
  const steady: (LoadResult & { ratePerSecond: number })[] = [];
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
    const scraper = endpoint.name === 'ours' ? scrapeEvery(15_000, `http://127.0.0.1:${port}/metrics`) : null;
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
      const scrapes = scraper?.stop();
      if (scrapes) say(`  ours: /metrics ${scrapes} during the load`);
      const cpuMsPerRequest = Object.fromEntries(
        Object.entries(result.cpuSeconds).map(([name, seconds]) => [
          name,
          round((seconds * 1000) / result.requests, 3),
        ]),
      );
      const rss = memory.stop();
      const writesCallSessions = endpoint.name.startsWith('ours') || endpoint.name === 'minimal+record';
      runs[endpoint.name] = {
        ...result,
        cpuMsPerRequest,
        idleRssMb: round(rss.startMb),
        maxRssMb: round(rss.maxMb),
        loadAverageBefore,
        ...(scrapes ? { metricsScrapes: scrapes } : {}),
        ...(writesCallSessions ? { callSessionsWrittenAfterLoad: await writesAfterLoad(database) } : {}),
      };
      if (endpoint.name === 'ours') {
        for (const { ratePerSecond: rate, seconds } of settings.steady) {
          const run = await runLoadGenerator(stack, `call-action-ours-steady-${rate}`, {
            url: `http://127.0.0.1:${port}`,
            path: endpoint.path,
            headers: { authorization: WEBHOOK_SECRET },
            connections: settings.connections,
            ratePerSecond: rate,
            durationSeconds: seconds,
            warmupSeconds: 0,
            maxRequests: rate * seconds * 2,
            bodiesFile,
            answers: 'callflow',
          });
          steady.push({ ratePerSecond: rate, ...run });
          say(
            `  ours at a steady ${rate} calls/s: p50 ${fmt(run.latencyMs.p50, 2)} ms, p99 ${fmt(run.latencyMs.p99, 2)} ms, ` +
              `max ${fmt(run.latencyMs.max, 1)} ms; ${run.pacing?.sentLate ?? 0} of ${run.pacing?.scheduled ?? 0} sent ` +
              `${run.pacing?.sentLateAfterMs ?? 0} ms or more late (p99 from the due time ${fmt(run.pacing?.latencyFromDueMs.p99 ?? NaN, 2)} ms); ` +
              `non-200 ${run.non200}, errors ${run.errors}`,
          );
        }
      }
    } finally {
      scraper?.stop();
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
  const metricsOff = runs['ours, metrics off']!;
  const ratioMetrics = ours.requestsPerSecond / metricsOff.requestsPerSecond;
  const name = '1 call action';
  const checks: Check[] = [
    check(name, 'ours req/s', int(ours.requestsPerSecond), '', null),
    check(name, 'minimal req/s (one lookup)', int(minimal.requestsPerSecond), '', null),
    check(name, 'minimal+record req/s (diagnostic)', int(runs['minimal+record']!.requestsPerSecond), '', null),
    check(name, 'bare req/s (fixed answer)', int(bare.requestsPerSecond), '', null),
    check(name, 'ours / minimal', fmt(ratioMinimal, 2), '>= 0.85', ratioMinimal >= 0.85),
    check(name, 'ours / bare', fmt(ratioBare, 2), '', null),
    check(name, 'ours, metrics off req/s', int(metricsOff.requestsPerSecond), '', null),
    // Issue 15: recording the call action's metrics (and a scrape a second) costs at most 5% of throughput.
    check(name, 'ours (metrics on) / metrics off', fmt(ratioMetrics, 3), '>= 0.95', ratioMetrics >= 0.95),
    check(name, 'ours p50 latency', `${fmt(ours.latencyMs.p50, 2)} ms`, '', null),
    // At saturation the p99 is queueing in a closed loop of 64; the latency target is held open-loop, below.
    check(name, `ours p99 latency, ${settings.connections} connections`, `${fmt(ours.latencyMs.p99, 2)} ms`, '', null),
    check(name, 'minimal p99 latency', `${fmt(minimal.latencyMs.p99, 2)} ms`, '', null),
    ...steady.map((run) => {
      const atTarget = run.ratePerSecond === STEADY_TARGET_RATE;
      return check(
        name,
        `ours p50 / p99 / max at a steady ${int(run.ratePerSecond)} calls/s`,
        `${fmt(run.latencyMs.p50, 2)} / ${fmt(run.latencyMs.p99, 2)} / ${fmt(run.latencyMs.max, 1)} ms`,
        atTarget ? 'p99 <= 20 ms' : '',
        atTarget ? run.latencyMs.p99 <= 20 : null,
      );
    }),
    ...steady.map((run) =>
      check(
        name,
        `steady ${int(run.ratePerSecond)} calls/s: sent late (missed the rate), non-200 + no answer`,
        `${run.pacing?.sentLate ?? 0} of ${int(run.pacing?.scheduled ?? 0)}, ${run.non200} + ${run.errors}`,
        '',
        null,
      ),
    ),
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
    oursAtSteadyRates: steady,
    ratios: {
      oursOverMinimal: round(ratioMinimal, 3),
      oursOverBare: round(ratioBare, 3),
      metricsOnOverOff: round(ratioMetrics, 3),
    },
    checks,
  };
}

const METRICS_TOKEN = 'bench-metrics-token-0123456789';

/** GETs `/metrics` every `everyMs` until stopped; stop() says how many scrapes were sent and answered 200. */
function scrapeEvery(everyMs: number, url: string) {
  let sent = 0;
  const tookMs: number[] = [];
  let storeReadSeconds: string | undefined;
  const scrape = () => {
    sent += 1;
    const startedAt = performance.now();
    fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(10_000) })
      .then(async (answer) => {
        const text = await answer.text();
        if (answer.status !== 200) return;
        tookMs.push(performance.now() - startedAt);
        storeReadSeconds = /^maskline_store_figures_read_seconds (\S+)$/m.exec(text)?.[1] ?? storeReadSeconds;
      })
      .catch(() => undefined);
  };
  scrape();
  const timer = setInterval(scrape, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      const slowest = tookMs.length ? Math.max(...tookMs) : NaN;
      // Prometheus gives up on a scrape after 10 s by default: so does this one.
      return (
        `scraped ${sent} times, ${tookMs.length} answered 200 within 10 s by the end of the load` +
        (tookMs.length ? `, slowest ${slowest.toFixed(1)} ms` : '') +
        (storeReadSeconds ? `; the store figures' last read took ${storeReadSeconds} s` : '')
      );
    },
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
