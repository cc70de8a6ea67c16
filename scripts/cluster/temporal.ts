/**
 * The Temporal cluster of docker-compose.yml, run as processes on this machine: its PostgreSQL (compose's major
 * version, binaries from npm), the schema and namespace set up by compose's own one-shot scripts
 * (infra/compose/temporal-schema.sh, temporal-setup.sh), the server built from the Go module proxy at compose's
 * version with compose's environment for its embedded configuration template (as the image's entrypoint runs it),
 * one process per service, and the Temporal UI server.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { repoRoot, tools as localTools } from '../local/paths';
import { canConnect, freePort, isPortFree, waitUntil } from '../local/ports';
import { startPostgres, type Postgres } from '../local/postgres';
import type { LineSink, ManagedProcess, Supervisor } from '../local/processes';
import { interpolate, readCompose, type ComposeFile } from './compose';
import type { ClusterTools } from './tools';

const HOST = '127.0.0.1';
/** The server image's working directory, against which compose's relative paths are read. */
const IMAGE_WORKDIR = '/etc/temporal';

export type TemporalService = 'frontend' | 'history' | 'matching' | 'worker';
const PORT_PREFIX: Record<TemporalService, string> = {
  frontend: 'FRONTEND',
  history: 'HISTORY',
  matching: 'MATCHING',
  worker: 'WORKER',
};

/** One Temporal server process: one service, with ports of its own that stay the same across restarts. */
export interface TemporalProcessSpec {
  name: string;
  service: TemporalService;
  grpcPort: number;
  membershipPort: number;
  /** The frontend's HTTP API. */
  httpPort?: number;
}

/**
 * Temporal's PostgreSQL as compose's `postgresql` service makes it: a superuser `temporal` whose database is
 * `temporal`, and, on a new data directory, compose's init script (it creates `temporal_visibility`). Loopback
 * only, trusting local connections: the password compose sets is not asked for.
 */
export async function startTemporalPostgres(
  supervisor: Supervisor,
  tools: ClusterTools,
  options: { dataDir: string; durable: boolean; output?: LineSink },
): Promise<Postgres> {
  const postgres = await startPostgres(supervisor, {
    port: 0,
    dataDir: options.dataDir,
    durable: options.durable,
    binaries: tools.postgres,
    // Five Temporal processes with pools of 20 (history, matching) and their visibility pools.
    settings: { max_connections: '300' },
    output: options.output,
  });
  const admin = new pg.Client({ connectionString: postgres.url('postgres') });
  await admin.connect();
  let created = false;
  try {
    const role = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = 'temporal'");
    if (role.rowCount === 0) await admin.query('CREATE ROLE temporal LOGIN SUPERUSER');
    const database = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'temporal'");
    if (database.rowCount === 0) {
      await admin.query('CREATE DATABASE temporal OWNER temporal');
      created = true;
    }
  } finally {
    await admin.end();
  }
  if (created) {
    const init = readCompose().mountedFile('postgresql', '/docker-entrypoint-initdb.d/10-temporal-visibility.sql');
    if (!init) throw new Error('docker-compose.yml mounts no init script into the postgresql service');
    const client = new pg.Client({ connectionString: temporalUrl(postgres, 'temporal') });
    await client.connect();
    try {
      await client.query(fs.readFileSync(init, 'utf8'));
    } finally {
      await client.end();
    }
  }
  return postgres;
}

function temporalUrl(postgres: Postgres, database: string): string {
  return `postgres://temporal@${postgres.host}:${postgres.port}/${database}?sslmode=disable`;
}

/** compose's temporal-schema one-shot: its script, with the SQL tool and the schema files of the built version. */
export async function setUpTemporalSchema(tools: ClusterTools, postgres: Postgres, output?: LineSink): Promise<void> {
  const compose = readCompose();
  const script = compose.mountedFile('temporal-schema', '/maskline/temporal-schema.sh');
  if (!script) throw new Error('docker-compose.yml mounts no temporal-schema.sh into temporal-schema');
  const env = {
    ...serviceEnvironment(compose, 'temporal-schema'),
    SQL_HOST: postgres.host,
    SQL_PORT: String(postgres.port),
    TEMPORAL_SCHEMA_DIR: tools.schemaDir,
    PATH: `${tools.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  await runScript('temporal-schema', script, env, 120_000, output);
}

/** compose's temporal-setup one-shot: the namespace, and the search attributes through the operator API. */
export async function setUpTemporalNamespace(address: string, output?: LineSink): Promise<void> {
  const compose = readCompose();
  const script = compose.mountedFile('temporal-setup', '/maskline/temporal-setup.sh');
  if (!script) throw new Error('docker-compose.yml mounts no temporal-setup.sh into temporal-setup');
  const env = {
    ...serviceEnvironment(compose, 'temporal-setup'),
    TEMPORAL_ADDRESS: address,
    PATH: `${path.dirname(localTools.temporalCli)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  await runScript('temporal-setup', script, env, 180_000, output);
}

async function runScript(
  name: string,
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
  output?: LineSink,
): Promise<void> {
  try {
    const { stdout, stderr } = await promisify(execFile)('/bin/sh', [script], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    // The tools' step-by-step DEBUG lines only matter when a step fails; the script's own last line says it is done.
    void stderr;
    const last = stdout.trim().split('\n').pop();
    if (last) output?.(last, 'stdout');
  } catch (error) {
    const { stdout = '', stderr = '', killed } = error as { stdout?: string; stderr?: string; killed?: boolean };
    const why = killed ? `did not finish within ${timeoutMs / 1000} s` : 'failed';
    throw new Error(`${name} (${path.relative(repoRoot, script)}) ${why}:\n${`${stdout}\n${stderr}`.trim()}`);
  }
}

/** A compose service's environment, `${...}` read against ours as compose reads it against .env. */
function serviceEnvironment(compose: ComposeFile, service: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(compose.environment(service)).map(([key, value]) => [key, interpolate(value, process.env)]),
  );
}

/** Ports for the cluster's processes: the frontend's gRPC port as given (0: a free one), every other one free. */
export async function temporalProcessSpecs(counts: {
  frontendPort: number;
  history: number;
  matching: number;
}): Promise<TemporalProcessSpec[]> {
  const spec = async (service: TemporalService, name: string, grpcPort = 0): Promise<TemporalProcessSpec> => ({
    name,
    service,
    grpcPort: grpcPort || (await freePort()),
    membershipPort: await freeMembershipPort(),
    ...(service === 'frontend' ? { httpPort: await freePort() } : {}),
  });
  const specs = [await spec('frontend', 'temporal-frontend', counts.frontendPort)];
  for (let i = 0; i < counts.history; i++) specs.push(await spec('history', `temporal-history-${i}`));
  for (let i = 0; i < counts.matching; i++) specs.push(await spec('matching', `temporal-matching-${i}`));
  specs.push(await spec('worker', 'temporal-worker'));
  return specs;
}

const taken = new Set<number>();

/**
 * A free port below 32768: the server keeps membership ports in a smallint column (cluster_membership.rpc_port),
 * and the kernel's own free ports are above that.
 */
async function freeMembershipPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!taken.has(port) && (await isPortFree(HOST, port))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port between 20000 and 32000 for a Temporal membership port');
}

/**
 * The environment of one server process: compose's `temporal` service environment (DB, user, dynamic config ...),
 * with what differs on this machine: PostgreSQL's address, loopback instead of the container's address, the
 * dynamic config file compose mounts, and this process's ports (every process knows the frontend's).
 */
export function temporalServerEnvironment(
  postgres: Postgres,
  specs: readonly TemporalProcessSpec[],
  own: TemporalProcessSpec,
  logLevel: string,
): Record<string, string> {
  const compose = readCompose();
  const base = serviceEnvironment(compose, 'temporal');
  const dynamicConfig = base.DYNAMIC_CONFIG_FILE_PATH
    ? compose.mountedFile('temporal', base.DYNAMIC_CONFIG_FILE_PATH, IMAGE_WORKDIR)
    : undefined;
  if (base.DYNAMIC_CONFIG_FILE_PATH && !dynamicConfig) {
    throw new Error(`docker-compose.yml mounts nothing at the temporal service's ${base.DYNAMIC_CONFIG_FILE_PATH}`);
  }
  const ports: Record<string, string> = {};
  const frontend = specs.find((s) => s.service === 'frontend')!;
  for (const spec of [...specs.filter((s) => s.service !== own.service), own]) {
    const prefix = PORT_PREFIX[spec.service];
    ports[`${prefix}_GRPC_PORT`] = String(spec.grpcPort);
    ports[`${prefix}_MEMBERSHIP_PORT`] = String(spec.membershipPort);
  }
  ports.FRONTEND_HTTP_PORT = String(frontend.httpPort);
  return {
    ...base,
    ...(dynamicConfig ? { DYNAMIC_CONFIG_FILE_PATH: dynamicConfig } : {}),
    POSTGRES_SEEDS: postgres.host,
    DB_PORT: String(postgres.port),
    BIND_ON_IP: HOST,
    TEMPORAL_BROADCAST_ADDRESS: HOST,
    LOG_LEVEL: logLevel,
    ...ports,
  };
}

/** Lines the server logs at warn in normal operation here, which say nothing wrong. */
const KNOWN_NOISE = [/Loading configuration from environment variables only/, /Processing config file as template/];

/** Starts one server process (`temporal-server start --service X`, as the image does) and waits until it listens. */
export async function startTemporalProcess(
  supervisor: Supervisor,
  tools: ClusterTools,
  spec: TemporalProcessSpec,
  env: Record<string, string>,
  output?: LineSink,
  readyTimeoutMs = 120_000,
): Promise<ManagedProcess> {
  const proc: ManagedProcess = supervisor.spawn(spec.name, tools.temporalServer, ['start', '--service', spec.service], {
    env: { ...process.env, ...env },
    output: (line, stream) => {
      if (!proc.stopping && !KNOWN_NOISE.some((re) => re.test(line))) output?.(line, stream);
    },
  });
  const abort = proc.exited.then((info) => Promise.reject(proc.exitError(info)));
  abort.catch(() => {});
  // The internal worker service serves no gRPC: it is up once it listens for the membership ring.
  const port = spec.service === 'worker' ? spec.membershipPort : spec.grpcPort;
  await waitUntil(`${spec.name} (${HOST}:${port})`, () => canConnect(HOST, port), {
    timeoutMs: readyTimeoutMs,
    intervalMs: 200,
    abort,
  });
  return proc;
}

/** The frontend answers, and the namespace and the given search attributes are there. */
export async function clusterAnswers(
  address: string,
  namespace: string,
  searchAttributes: readonly string[],
): Promise<boolean> {
  const registered = await customSearchAttributes(address, namespace);
  return searchAttributes.every((name) => name in registered);
}

/** The namespace's custom search attributes and their types as the CLI names them (`Keyword`, `Int`, ...). */
export async function customSearchAttributes(address: string, namespace: string): Promise<Record<string, string>> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.getSystemInfo({});
    await connection.workflowService.describeNamespace({ namespace });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const typeName = (type: number) =>
      (temporal.api.enums.v1.IndexedValueType[type] ?? String(type))
        .replace(/^INDEXED_VALUE_TYPE_/, '')
        .toLowerCase()
        .replace(/(^|_)(\w)/g, (_, _sep: string, c: string) => c.toUpperCase());
    return Object.fromEntries(Object.entries(customAttributes).map(([name, type]) => [name, typeName(type)]));
  } finally {
    await connection.close();
  }
}

/**
 * The Temporal UI server, configured as compose's temporal-ui service is (its image renders TEMPORAL_ADDRESS into
 * this file), on loopback.
 */
export async function startTemporalUi(
  supervisor: Supervisor,
  tools: ClusterTools,
  options: { dir: string; port: number; temporalAddress: string; namespace: string; output?: LineSink },
): Promise<{ url: string; process: ManagedProcess }> {
  const configDir = path.join(options.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  const url = `http://${HOST}:${options.port}`;
  fs.writeFileSync(
    path.join(configDir, 'cluster.yaml'),
    [
      `temporalGrpcAddress: ${options.temporalAddress}`,
      `host: ${HOST}`,
      `port: ${options.port}`,
      'enableUi: true',
      `defaultNamespace: ${options.namespace}`,
      // No call home from a machine that reaches only package registries.
      'notifyOnNewVersion: false',
      'refreshInterval: 0s',
      'cors:',
      '  cookieInsecure: true',
      '  allowOrigins:',
      `    - ${url}`,
      `    - http://localhost:${options.port}`,
      '',
    ].join('\n'),
  );
  const proc = supervisor.spawn('temporal-ui', tools.temporalUi, ['--root', options.dir, '--env', 'cluster', 'start'], {
    output: (line, stream) => {
      // Its start-up chatter (config files, the banner) goes to stdout; problems to stderr.
      if (stream === 'stderr' && !/Loading config/.test(line)) options.output?.(line, stream);
    },
  });
  const abort = proc.exited.then((info) => Promise.reject(proc.exitError(info)));
  abort.catch(() => {});
  await waitUntil(
    `Temporal UI (${url})`,
    async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return response.status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 250, abort },
  );
  return { url, process: proc };
}
