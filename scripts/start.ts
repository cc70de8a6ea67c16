/**
 * `npm start`: the whole service on this machine. Starts a Temporal dev server and FerretDB on PostgreSQL (unless
 * TEMPORAL_ADDRESS / MONGODB_URI point elsewhere), then the worker and the HTTP server, waits until all are
 * ready, prints where everything is, and on Ctrl-C stops them in order: HTTP server, worker (it drains), FerretDB
 * and Temporal, PostgreSQL.
 */
import path from 'node:path';
import { dataDirs, repoRoot } from './local/paths';
import { isPortFree, waitUntil } from './local/ports';
import { Supervisor, type LineSink, type ManagedProcess } from './local/processes';
import { startTemporalDevServer } from './local/temporal';
import { requireFreeMongoDbPort, startFerretDb } from './local/ferretdb';
import { startPostgres } from './local/postgres';

const HOST = '127.0.0.1';
const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;
const MONGODB_PORT = 27017;
const APP_READY_TIMEOUT_MS = 180_000;

const say = (message: string) => process.stdout.write(`[start] ${message}\n`);
const prefixed =
  (prefix: string): LineSink =>
  (line, stream) =>
    (stream === 'stderr' ? process.stderr : process.stdout).write(`[${prefix}] ${line}\n`);
const passThrough: LineSink = (line, stream) =>
  (stream === 'stderr' ? process.stderr : process.stdout).write(`${line}\n`);

const supervisor = new Supervisor();
const roles: {
  http?: ManagedProcess;
  worker?: ManagedProcess;
  ferretdb?: ManagedProcess;
  postgres?: ManagedProcess;
  temporal?: ManagedProcess;
} = {};
let shuttingDown: Promise<never> | undefined;
let firstSignalAt = 0;

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`PORT must be a port number: ${process.env.PORT}`);
  if (!(await isPortFree(HOST, port))) {
    throw new Error(`port ${HOST}:${port} for the HTTP server is already in use; stop what runs there or set PORT`);
  }

  const external = { temporal: process.env.TEMPORAL_ADDRESS, mongodb: process.env.MONGODB_URI };
  const [temporal, ferretdb] = await Promise.all([
    external.temporal
      ? undefined
      : (say(`starting Temporal dev server on ${HOST}:${TEMPORAL_PORT}`),
        startTemporalDevServer(supervisor, {
          port: TEMPORAL_PORT,
          uiPort: TEMPORAL_UI_PORT,
          // The UI decodes the (encrypted) workflow data through our HTTP server's codec endpoint.
          uiCodecEndpoint: `http://${HOST}:${port}/codec`,
          dbFilename: dataDirs.temporalDb,
          output: prefixed('temporal'),
        })),
    external.mongodb ? undefined : startStore(),
  ]);
  roles.temporal = temporal?.process;
  if (temporal) watchForUnexpectedExit(temporal.process);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The one place that asks for development mode: a run on this machine needs no credentials. Set it to false
    // to try a production configuration here; NODE_ENV=production makes the processes refuse it.
    MASKLINE_DEVELOPMENT_MODE: process.env.MASKLINE_DEVELOPMENT_MODE ?? 'true',
    PORT: String(port),
    TEMPORAL_ADDRESS: external.temporal ?? temporal?.address,
    MONGODB_URI: external.mongodb ?? ferretdb?.uri('maskline'),
    MASKLINE_WORKER_METRICS_PORT: process.env.MASKLINE_WORKER_METRICS_PORT ?? '9464',
  };
  say('starting the worker and the HTTP server');
  const node = (entry: string) => ['--import', 'tsx', entry];
  const app = { env, output: passThrough, tailInErrors: false };
  roles.worker = supervisor.spawn('worker', process.execPath, node('src/worker/main.ts'), app);
  roles.http = supervisor.spawn('HTTP server', process.execPath, node('src/server/main.ts'), app);
  watchForUnexpectedExit(roles.worker);
  watchForUnexpectedExit(roles.http);

  const http = roles.http;
  const worker = roles.worker;
  const workerPort = Number(env.MASKLINE_WORKER_METRICS_PORT);
  await Promise.all([
    // Its /healthz when it has a port: a log line would not come at LOG_LEVEL=warn, and the start would wait forever.
    Number.isInteger(workerPort) && workerPort > 0
      ? waitUntil(`worker (GET http://${HOST}:${workerPort}/healthz)`, () => isHealthy(workerPort, '/healthz'), {
          timeoutMs: APP_READY_TIMEOUT_MS,
          intervalMs: 250,
          abort: worker.exited.then((info) => Promise.reject(worker.exitError(info))),
        })
      : worker.waitForLine((line) => line.includes('"msg":"worker running"'), APP_READY_TIMEOUT_MS, 'worker start'),
    waitUntil(`HTTP server (GET http://${HOST}:${port}/readyz)`, () => isReady(port), {
      timeoutMs: APP_READY_TIMEOUT_MS,
      intervalMs: 250,
      abort: http.exited.then((info) => Promise.reject(http.exitError(info))),
    }),
  ]);

  printSummary(port, temporal?.uiUrl, external, env);
}

/** PostgreSQL (on a free port: only FerretDB talks to it) with its data in .data/postgres, and FerretDB on it. */
async function startStore() {
  say(`starting PostgreSQL (${path.relative(repoRoot, dataDirs.postgres)}) and FerretDB on ${HOST}:${MONGODB_PORT}`);
  // Before PostgreSQL starts, so that a port in use stops us before there is anything to stop.
  await requireFreeMongoDbPort(MONGODB_PORT);
  const postgres = await startPostgres(supervisor, {
    port: 0,
    dataDir: dataDirs.postgres,
    durable: true,
    output: prefixed('postgres'),
  });
  roles.postgres = postgres.process;
  watchForUnexpectedExit(postgres.process);
  const postgresUrl = await postgres.createDatabase('ferretdb');
  const ferretdb = await startFerretDb(supervisor, { port: MONGODB_PORT, postgresUrl, output: prefixed('ferretdb') });
  roles.ferretdb = ferretdb.process;
  watchForUnexpectedExit(ferretdb.process);
  return ferretdb;
}

async function isReady(port: number): Promise<boolean> {
  return isHealthy(port, '/readyz');
}

async function isHealthy(port: number, route: string): Promise<boolean> {
  const response = await fetch(`http://${HOST}:${port}${route}`, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.status === 200;
}

function printSummary(
  port: number,
  temporalUi: string | undefined,
  external: { temporal?: string; mongodb?: string },
  env: NodeJS.ProcessEnv,
) {
  const api = `http://${HOST}:${port}`;
  const rel = (p: string) => path.relative(repoRoot, p);
  const lines = [
    '',
    'Maskline is running.',
    `  API            ${api}`,
    `  8x8 webhooks   ${api}/webhooks/8x8/call-action`,
    `                 ${api}/webhooks/8x8/call-status`,
    `                 ${api}/webhooks/8x8/session-summary`,
    `                 ${api}/webhooks/8x8`,
    `  Codec server   ${api}/codec (the Temporal UI decrypts workflow data through it)`,
    `  Metrics        ${api}/metrics, and the worker's on http://${HOST}:${env.MASKLINE_WORKER_METRICS_PORT}/metrics`,
    external.temporal
      ? `  Temporal       ${external.temporal} (TEMPORAL_ADDRESS)`
      : `  Temporal UI    ${temporalUi ?? ''}`,
    `  Data           ${
      [
        external.temporal ? undefined : rel(dataDirs.temporalDb),
        external.mongodb ? undefined : `${rel(dataDirs.postgres)}/`,
      ]
        .filter(Boolean)
        .join(', ') || '(external servers)'
    }`,
  ];
  const open = [
    ...(env.MASKLINE_API_KEY ? [] : ['the API (MASKLINE_API_KEY)']),
    ...(env.MASKLINE_WEBHOOK_SECRET ? [] : ['the webhooks (MASKLINE_WEBHOOK_SECRET)']),
    ...(env.MASKLINE_CODEC_TOKEN ? [] : ['the codec endpoint (MASKLINE_CODEC_TOKEN)']),
    ...(env.MASKLINE_METRICS_TOKEN ? [] : ['the metrics (MASKLINE_METRICS_TOKEN)']),
  ];
  if (env.MASKLINE_DEVELOPMENT_MODE === 'true' && open.length > 0) {
    lines.push(
      '',
      '  DEVELOPMENT MODE (MASKLINE_DEVELOPMENT_MODE=true, set by npm start): these have no credential set and',
      `  accept requests WITHOUT one: ${open.join(', ')}. Never expose this to any network.`,
    );
  }
  if (!env.MASKLINE_ENCRYPTION_KEYS) {
    lines.push(
      '',
      '  DEVELOPMENT KEY: MASKLINE_ENCRYPTION_KEYS is unset, so Temporal payloads are encrypted with a key that is',
      '  published in this repository. Set your own keys before handling real phone numbers (see PRIVACY.md).',
    );
  }
  lines.push('', 'Press Ctrl-C to stop.', '');
  process.stdout.write(lines.join('\n') + '\n');
}

function watchForUnexpectedExit(p: ManagedProcess): void {
  void p.exited.then((info) => {
    if (p.stopping || shuttingDown) return;
    process.stderr.write(`[start] ${p.exitError(info).message}\n`);
    void shutdown(1);
  });
}

/** Stops everything in order and exits. */
function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    say('stopping');
    await roles.http?.stop(15_000);
    await roles.worker?.stop(60_000);
    await Promise.all([roles.ferretdb?.stop(10_000), roles.temporal?.stop(10_000)]);
    await roles.postgres?.stop(30_000);
    await supervisor.close();
    say('stopped');
    process.exit(code);
  })();
  return shuttingDown;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // npm forwards the terminal's Ctrl-C, so one keypress can arrive twice; only a later one forces.
    if (!shuttingDown) {
      firstSignalAt = Date.now();
      if (signal === 'SIGINT') say('Ctrl-C: shutting down (press it again to kill everything at once)');
      void shutdown(0);
    } else if (Date.now() - firstSignalAt > 1_000) {
      say('killing everything');
      supervisor.killAll();
      process.exit(130);
    }
  });
}

main().catch((err: unknown) => {
  if (shuttingDown) return;
  process.stderr.write(`[start] ${err instanceof Error ? err.message : String(err)}\n`);
  void shutdown(1);
});
