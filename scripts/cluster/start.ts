/**
 * `npm run cluster`: the production shape of docker-compose.yml on this machine, without Docker (scripts/cluster/
 * stack.ts): a Temporal cluster (frontend, history, matching and internal-worker services as processes of their
 * own) on PostgreSQL, the Temporal UI, the store, 2 HTTP servers and 3 workers, in production mode. It waits until
 * all are ready, prints where everything is, and on Ctrl-C stops them in order; if any process dies, everything
 * stops and the exit code is non-zero (as `npm start`).
 *
 * The secrets come from the environment, else from .env (the file compose reads), else from
 * .data/cluster/secrets.env, made on the first run. Env: CLUSTER_PORT (first HTTP server, 3000; the others follow),
 * CLUSTER_HTTP_SERVERS (2), CLUSTER_WORKERS (3), CLUSTER_HISTORY (2), CLUSTER_MATCHING (2), CLUSTER_TEMPORAL_PORT
 * (7233), CLUSTER_UI_PORT (8080, as compose publishes it), LOG_LEVEL. Data: .data/cluster/.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { dataDirs, repoRoot } from '../local/paths';
import { ClusterStack } from './stack';

const setting = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number: ${process.env[name]}`);
  return value;
};

const dataDir = path.join(dataDirs.root, 'cluster');
const SECRETS = ['MASKLINE_API_KEY', 'MASKLINE_WEBHOOK_SECRET', 'MASKLINE_ENCRYPTION_KEYS'] as const;

const say = (message: string) => process.stdout.write(`[cluster] ${message}\n`);
let stack: ClusterStack | undefined;
let shuttingDown: Promise<never> | undefined;
let firstSignalAt = 0;

/** The secrets compose takes from .env: from our environment, .env, or a file of this cluster's own. */
function secrets(): Record<string, string> {
  const found: Record<string, string> = {};
  const sources: [string, Record<string, string | undefined>][] = [['the environment', process.env]];
  const dotEnv = path.join(repoRoot, '.env');
  if (fs.existsSync(dotEnv)) sources.push(['.env', parseEnv(fs.readFileSync(dotEnv, 'utf8'))]);
  const own = path.join(dataDir, 'secrets.env');
  if (fs.existsSync(own)) sources.push([path.relative(repoRoot, own), parseEnv(fs.readFileSync(own, 'utf8'))]);
  for (const name of SECRETS) {
    for (const [where, values] of sources) {
      if (values[name]) {
        found[name] = values[name];
        if (where !== 'the environment') say(`${name} from ${where}`);
        break;
      }
    }
  }
  const missing = SECRETS.filter((name) => !found[name]);
  if (missing.length > 0) {
    const made: Record<string, string> = {
      MASKLINE_API_KEY: randomBytes(24).toString('hex'),
      MASKLINE_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
      MASKLINE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    };
    fs.mkdirSync(dataDir, { recursive: true });
    const lines = missing.map((name) => `${name}=${made[name]}`);
    fs.appendFileSync(own, `${lines.join('\n')}\n`, { mode: 0o600 });
    for (const name of missing) found[name] = made[name]!;
    say(`made ${missing.join(', ')} and kept them in ${path.relative(repoRoot, own)} (mode 600)`);
  }
  return found;
}

async function main(): Promise<void> {
  const firstPort = setting('CLUSTER_PORT', 3000);
  const httpServers = setting('CLUSTER_HTTP_SERVERS', 2);
  const appEnv = { ...secrets(), ...(process.env.LOG_LEVEL ? { LOG_LEVEL: process.env.LOG_LEVEL } : {}) };
  stack = new ClusterStack({
    dataDir,
    durable: true,
    httpPorts: Array.from({ length: httpServers }, (_, i) => (firstPort === 0 ? 0 : firstPort + i)),
    workers: setting('CLUSTER_WORKERS', 3),
    history: setting('CLUSTER_HISTORY', 2),
    matching: setting('CLUSTER_MATCHING', 2),
    frontendPort: setting('CLUSTER_TEMPORAL_PORT', 7233),
    uiPort: setting('CLUSTER_UI_PORT', 8080),
    appEnv,
    output: (source, line, stream) => {
      // The app's JSON lines as they are (as npm start passes them); the servers' tagged with who wrote them.
      const text = /^(http|worker)-\d+$/.test(source) ? line : `[${source}] ${line}`;
      (stream === 'stderr' ? process.stderr : process.stdout).write(`${text}\n`);
    },
    say,
    onUnexpectedExit: (message) => {
      if (shuttingDown) return;
      process.stderr.write(`[cluster] ${message}\n`);
      void shutdown(1);
    },
  });
  await stack.start();
  printSummary(stack);
}

function printSummary(cluster: ClusterStack): void {
  const v = cluster.tools.versions;
  const temporal = cluster.temporalSpecs.map((s) => `${s.name.replace('temporal-', '')} :${s.grpcPort}`).join(', ');
  const lines = [
    '',
    'Maskline is running in its production shape (docker-compose.yml, without Docker), in production mode.',
    ...cluster.httpPorts.map(
      (port, i) => `  API ${i + 1}          http://127.0.0.1:${port}   (webhooks under /webhooks/8x8/...)`,
    ),
    `  Temporal       ${cluster.temporalAddress}   server ${v.temporalServer}: ${temporal}`,
    `  Temporal UI    ${cluster.uiUrl ?? '(none)'}   ui ${v.temporalUi}`,
    `  Workers        ${cluster.names('worker').length}, task queue ${cluster.appEnv.TEMPORAL_TASK_QUEUE}`,
    `  Store          ${cluster.mongodbUri} (FerretDB on PostgreSQL 17; compose runs MongoDB 7)`,
    `  Data           ${path.relative(repoRoot, dataDir)}/ (Temporal on PostgreSQL ${v.postgresPackage.replace(/-.*/, '')})`,
    '',
    '  The API wants MASKLINE_API_KEY as its bearer token and the webhooks MASKLINE_WEBHOOK_SECRET (see above',
    '  for where they came from).',
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    say('stopping');
    await stack?.stop();
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
      stack?.supervisor.killAll();
      process.exit(130);
    }
  });
}

main().catch((error: unknown) => {
  if (shuttingDown) return;
  process.stderr.write(`[cluster] ${error instanceof Error ? error.message : String(error)}\n`);
  void shutdown(1);
});
