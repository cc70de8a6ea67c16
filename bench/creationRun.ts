import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../scripts/local/ports';
import type { ManagedProcess } from '../scripts/local/processes';
import type { BookingLanes, BookingRecord, LanesResult } from './loadSpec';
import { cpuMeter, round } from './measure';
import { readStoreCommands, storeCommandsBetween, type StoreCommandCounts } from './preload/storeCommands';
import { API_KEY, METRICS_TOKEN, masklineEnvironment, runLoadGenerator, startProcess } from './processes';
import { fmt } from './report';
import type { BenchStack } from './stack';
import type { HistoryFigures } from './temporalHistories';

/**
 * Maskline's own HTTP server and worker(s), started for one booking-creation run on a database and task queue of
 * its own, each process with the store-command counter preloaded (bench/preload/storeCommands.ts); and the
 * platform-like load of bench/loadgen.ts against it, with the CPU time and store round trips of every process over
 * the measured run. The reconciliation schedule is set to a day, so that no pass runs in a measured window (or
 * gives back bookings a benchmark seeded without workflows).
 */
export interface CreationService {
  url: string;
  taskQueue: string;
  /** A request to the service's API, as the booking platform makes it; status 0 when no answer came. */
  api(method: string, route: string, body?: unknown): Promise<ApiAnswer>;
  processes: { name: string; process: ManagedProcess; commandsFile: string }[];
  stop(): Promise<void>;
}

export async function startCreationService(
  stack: BenchStack,
  options: { name: string; database: string; taskQueue: string; workers: number; env?: Record<string, string> },
): Promise<CreationService> {
  const port = await freePort();
  const env = {
    ...masklineEnvironment(stack, { port, database: options.database, taskQueue: options.taskQueue }),
    MASKLINE_RECONCILE_INTERVAL: '24h',
    ...options.env,
  };
  const root = path.join(__dirname, '..');
  const preload = stack.compiled(path.join(__dirname, 'preload', 'storeCommands.ts'));
  const processes: CreationService['processes'] = [];
  const start = async (name: string, script: string, ready: (line: string) => boolean) => {
    const commandsFile = path.join(stack.logDir, `${name}.store-commands.json`);
    fs.rmSync(commandsFile, { force: true });
    const proc = await startProcess(stack, {
      name,
      script,
      env: { ...env, BENCH_STORE_COMMANDS: commandsFile },
      ready,
      readyTimeoutMs: 180_000,
      nodeOptions: ['--require', preload],
    });
    processes.push({ name, process: proc, commandsFile });
  };
  try {
    await Promise.all(
      Array.from({ length: options.workers }, (_, i) =>
        start(
          options.workers === 1 ? `${options.name}-worker` : `${options.name}-worker-${i}`,
          path.join(root, 'src', 'worker', 'main.ts'),
          (line) => line.includes('"worker running"'),
        ),
      ),
    );
    await start(`${options.name}-http`, path.join(root, 'src', 'server', 'main.ts'), (line) =>
      line.includes('http server listening'),
    );
  } catch (error) {
    await Promise.all(processes.map((p) => p.process.stop(10_000)));
    throw error;
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    taskQueue: options.taskQueue,
    processes,
    api: (method, route, body) => apiRequest(url, method, route, body),
    async stop() {
      // The HTTP server first: nothing new reaches the workers while they finish what they hold.
      const http = processes.filter((p) => p.name.endsWith('-http'));
      await Promise.all(http.map((p) => p.process.stop(10_000)));
      await Promise.all(processes.filter((p) => !http.includes(p)).map((p) => p.process.stop(30_000)));
    },
  };
}

/** The parts of the API's answers the benchmarks read. */
export interface ApiBody {
  error?: { code?: string; message?: string };
  status?: string;
  virtualNumber?: string | null;
  parties?: { role: string; number: string }[];
  numbers?: { liveBookings: number }[];
  nextCursor?: string | null;
}

export interface ApiAnswer {
  status: number;
  body: ApiBody | null;
}

export async function apiRequest(
  url: string,
  method: string,
  route: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<ApiAnswer> {
  try {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: ApiBody | null = null;
    try {
      parsed = JSON.parse(text) as ApiBody;
    } catch {
      // Not JSON: only the status tells.
    }
    return { status: response.status, body: parsed };
  } catch {
    return { status: 0, body: null };
  }
}

/** What one platform-like load did, with what it cost each process. */
export interface CreationLoad {
  load: LanesResult;
  records: BookingRecord[];
  cpuSeconds: Record<string, number>;
  /** Store commands each process sent over the measured run, by command and collection. */
  storeCommands: Record<string, StoreCommandCounts>;
  /** How long the CPU and the store commands were metered: the window and the drain after it. */
  meteredSeconds: number;
  /** The HTTP server's creation limit (maskline_booking_creation_limit), read every half second while metered. */
  creationLimit: number[];
  /** The HTTP server's longest event-loop delay in each of those half seconds (nodejs_eventloop_lag_max_seconds), ms. */
  serverEventLoopDelayMaxMs: number[];
}

/** The platform-like load (bench/loadgen.ts, lanes) against the service, metered over its measured run. */
export async function runPlatformLoad(
  stack: BenchStack,
  service: CreationService,
  name: string,
  spec: {
    connections: number;
    durationSeconds: number;
    warmupSeconds: number;
    bookingPrefix: string;
    lanes: Omit<BookingLanes, 'recordsFile'>;
  },
): Promise<CreationLoad> {
  const recordsFile = path.join(stack.logDir, `${name}.bookings.json`);
  const processPids = Object.fromEntries(service.processes.map((p) => [shortName(p.name), p.process.pid]));
  const cpu = cpuMeter({
    ...processPids,
    // The servers this bench started itself: Temporal, FerretDB and PostgreSQL.
    ...stack.servers,
  });
  let before: Promise<Record<string, StoreCommandCounts>> = Promise.resolve({});
  const readAll = async () =>
    Object.fromEntries(
      await Promise.all(
        service.processes.map(async (p) => [shortName(p.name), await readStoreCommands(p.commandsFile)] as const),
      ),
    );
  let meteredFrom = 0;
  let meteredSeconds = 0;
  const creationLimit: number[] = [];
  const serverEventLoopDelayMaxMs: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const sampleLimit = async () => {
    const answer = await fetch(`${service.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      signal: AbortSignal.timeout(400),
    }).catch(() => null);
    const text = answer?.ok ? await answer.text() : '';
    const value = /^maskline_booking_creation_limit (\S+)$/m.exec(text)?.[1];
    if (value !== undefined) creationLimit.push(Number(value));
    // prom-client resets its event-loop histogram at each collect: each read is the half second since the last.
    const lag = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1];
    if (lag !== undefined) serverEventLoopDelayMaxMs.push(Math.round(Number(lag) * 1000));
  };
  const meter = {
    start() {
      cpu.start();
      before = readAll();
      meteredFrom = performance.now();
      sampler = setInterval(() => void sampleLimit(), 500);
    },
    stop() {
      clearInterval(sampler);
      meteredSeconds = (performance.now() - meteredFrom) / 1000;
      return cpu.stop();
    },
  };
  const result = await runLoadGenerator<LanesResult>(
    stack,
    name,
    {
      url: service.url,
      path: '/v1/bookings',
      headers: { authorization: `Bearer ${API_KEY}` },
      connections: spec.connections,
      durationSeconds: spec.durationSeconds,
      warmupSeconds: spec.warmupSeconds,
      maxRequests: Number.MAX_SAFE_INTEGER,
      bookingPrefix: spec.bookingPrefix,
      answers: 'booking',
      lanes: { ...spec.lanes, recordsFile },
    },
    meter,
  );
  // The counters are written every 100 ms: wait for the write that follows the run's end.
  await new Promise((resolve) => setTimeout(resolve, 250));
  const after = await readAll();
  const earlier = await before;
  const storeCommands = Object.fromEntries(
    Object.keys(after).map((key) => [key, storeCommandsBetween(earlier[key] ?? {}, after[key]!)]),
  );
  const { cpuSeconds, ...load } = result;
  const records = JSON.parse(fs.readFileSync(recordsFile, 'utf8')) as BookingRecord[];
  return { load, records, cpuSeconds, storeCommands, meteredSeconds, creationLimit, serverEventLoopDelayMaxMs };
}

/** `race-64-worker` → `worker`, `race-64-http` → `http`. */
function shortName(name: string): string {
  return /-(worker(?:-\d+)?|http)$/.exec(name)?.[1] ?? name;
}

/**
 * Where the time goes, per booking: CPU ms of each process, store round trips (by process and by command),
 * Temporal's events, tasks and attempts. `bookings` is what the figures are divided by.
 */
export function perBooking(run: CreationLoad, bookings: number, histories: HistoryFigures | null) {
  const per = (value: number, digits = 2) => round(value / Math.max(1, bookings), digits);
  const cpuMs = Object.fromEntries(Object.entries(run.cpuSeconds).map(([name, s]) => [name, per(s * 1000)]));
  // The service's processes: the load generator's own CPU is reported beside them, not counted in.
  const cpuTotal = per(
    Object.entries(run.cpuSeconds)
      .filter(([name]) => name !== 'loadgen')
      .reduce((sum, [, seconds]) => sum + seconds, 0) * 1000,
  );
  const byCommand: Record<string, number> = {};
  const storeMsByCommand: Record<string, number> = {};
  const byProcess: Record<string, number> = {};
  for (const [processName, counts] of Object.entries(run.storeCommands)) {
    for (const [command, entry] of Object.entries(counts)) {
      byCommand[command] = (byCommand[command] ?? 0) + entry.count;
      storeMsByCommand[command] = (storeMsByCommand[command] ?? 0) + entry.totalMs;
      byProcess[processName] = (byProcess[processName] ?? 0) + entry.count;
    }
  }
  const total = Object.values(byCommand).reduce((a, b) => a + b, 0);
  const sorted = Object.entries(byCommand).sort((a, b) => b[1] - a[1]);
  return {
    dividedBy: bookings,
    cpuMs: { ...cpuMs, total: cpuTotal },
    storeRoundTrips: {
      total: per(total),
      byProcess: Object.fromEntries(Object.entries(byProcess).map(([name, n]) => [name, per(n)])),
      byCommand: Object.fromEntries(sorted.map(([command, n]) => [command, per(n)])),
      /** Mean time a command took to come back, ms: the store's latency as the processes saw it. */
      meanMsByCommand: Object.fromEntries(
        sorted.map(([command, n]) => [command, round(storeMsByCommand[command]! / Math.max(1, n), 2)]),
      ),
    },
    temporal: histories
      ? {
          runsPerBooking: histories.runsPerWorkflow,
          eventsPerRun: histories.perRun.events.mean,
          eventsToAnswer: histories.perRun.eventsToAnswer.mean,
          workflowTasksPerRun: histories.perRun.workflowTasks,
          activityTasksPerRun: histories.perRun.activityTasks,
          localActivitiesPerRun: histories.perRun.localActivities,
          attemptsPerBooking: histories.attemptsPerBooking,
        }
      : null,
  };
}

export type PerBooking = ReturnType<typeof perBooking>;

/** One line for the log: where each booking's time went. */
export function describePerBooking(figures: PerBooking): string {
  const cpu = Object.entries(figures.cpuMs)
    .map(([name, ms]) => `${name} ${fmt(ms)}`)
    .join(', ');
  const top = Object.entries(figures.storeRoundTrips.byCommand)
    .slice(0, 6)
    .map(([command, n]) => `${command} ${fmt(n, 2)}`)
    .join(', ');
  const t = figures.temporal;
  return (
    `CPU ms/booking: ${cpu}; store round trips/booking ${fmt(figures.storeRoundTrips.total, 1)} (${top})` +
    (t
      ? `; Temporal: ${fmt(t.runsPerBooking, 2)} runs/booking, ${fmt(t.eventsPerRun)} events/run ` +
        `(${fmt(t.eventsToAnswer)} to the answer), ${fmt(t.workflowTasksPerRun, 2)} workflow tasks/run, ` +
        `activity tasks/run ${JSON.stringify(t.activityTasksPerRun)}, attempts/booking ${JSON.stringify(t.attemptsPerBooking)}`
      : '')
  );
}
