import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileProject } from '../scripts/local/compile';
import { repoRoot } from '../scripts/local/paths';
import { startFerretDb } from '../scripts/local/ferretdb';
import { freePort } from '../scripts/local/ports';
import { startPostgres } from '../scripts/local/postgres';
import { Supervisor, type ManagedProcess } from '../scripts/local/processes';
import { startTemporalDevServer } from '../scripts/local/temporal';

/** The servers the benchmarks run against, and a place for the logs of the processes under test. */
export interface BenchStack {
  supervisor: Supervisor;
  temporalAddress: string;
  /** A connection string for a database of its own on the bench's store. */
  mongodbUri(database: string): string;
  /** Where the processes under test write their output (kept after the run for a look). */
  logDir: string;
  /** What the store is, for the report. */
  store: string;
  /** When set, the processes under test run with `--cpu-prof` and leave their profiles here, per process name. */
  profileDir: string | null;
  /**
   * The compiled JavaScript of a TypeScript file of this repository: the processes under test run as the production
   * image runs them (`node dist/...js`, no TypeScript loader), and so do the comparison servers and the load generator.
   */
  compiled(script: string): string;
  /** The servers this bench started itself (whose CPU time it can count), by name. */
  servers: { temporal?: number; ferretdb?: number; postgres?: number };
  close(): Promise<void>;
}

/**
 * Starts a Temporal dev server (in memory) and FerretDB on PostgreSQL (in a temporary directory) of the bench's
 * own, on free ports, as `npm test` does but with PostgreSQL's durable settings of `npm start`; TEMPORAL_ADDRESS
 * and MONGODB_URI, when set, are used instead. Never the servers of `npm start` or of someone else's tests.
 */
export async function startBenchStack(
  say: (line: string) => void,
  options: { profile?: boolean } = {},
): Promise<BenchStack> {
  const supervisor = new Supervisor();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-bench-logs-'));
  const log = (name: string) => {
    const file = fs.createWriteStream(path.join(logDir, `${name}.log`));
    return (line: string) => file.write(`${line}\n`);
  };
  let dataDir: string | undefined;
  const buildDir = path.join(logDir, 'build');
  const startStore = async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-bench-postgres-'));
    const postgres = await startPostgres(supervisor, { port: 0, dataDir, durable: true, output: log('postgres') });
    const postgresUrl = await postgres.createDatabase('ferretdb');
    return { postgres, ferretdb: await startFerretDb(supervisor, { port: 0, postgresUrl, output: log('ferretdb') }) };
  };
  const [, temporal, store] = await Promise.all([
    build(buildDir, say),
    process.env.TEMPORAL_ADDRESS
      ? undefined
      : freePort().then((port) => startTemporalDevServer(supervisor, { port, output: log('temporal') })),
    process.env.MONGODB_URI ? undefined : startStore(),
  ]);
  const ferretdb = store?.ferretdb;
  for (const server of [temporal?.process, store?.postgres.process, ferretdb?.process]) watchForDeath(server, say);

  const temporalAddress = process.env.TEMPORAL_ADDRESS ?? temporal?.address ?? '';
  const baseUri = process.env.MONGODB_URI ?? ferretdb?.uri('maskline_bench') ?? '';
  say(`Temporal ${temporalAddress}${temporal ? ' (own dev server, in memory)' : ' (TEMPORAL_ADDRESS)'}`);
  say(`store ${new URL(baseUri).host}${ferretdb ? ' (own FerretDB 1.24.2 on PostgreSQL 17)' : ' (MONGODB_URI)'}`);
  say(`logs of the processes under test: ${logDir}`);
  return {
    supervisor,
    temporalAddress,
    mongodbUri(database) {
      const url = new URL(baseUri);
      url.pathname = `/${database}`;
      return url.toString();
    },
    logDir,
    compiled(script) {
      const relative = path.relative(repoRoot, script);
      if (relative.startsWith('..') || !relative.endsWith('.ts')) throw new Error(`not a source of ours: ${script}`);
      return path.join(buildDir, relative.replace(/\.ts$/, '.js'));
    },
    profileDir: options.profile ? path.join(logDir, 'profiles') : null,
    store: ferretdb
      ? 'FerretDB 1.24.2 (PostgreSQL 17 backend, GIN twins of its indexes), own processes'
      : `MONGODB_URI (${new URL(baseUri).host})`,
    servers: {
      temporal: temporal?.process.pid,
      ferretdb: ferretdb?.process.pid,
      postgres: store?.postgres.process.pid,
    },
    async close() {
      await supervisor.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Compiles the sources the benchmarks run (bench/tsconfig.bench.json), as `npm run build` does for the image. */
async function build(outDir: string, say: (line: string) => void): Promise<void> {
  const started = Date.now();
  await compileProject('bench/tsconfig.bench.json', outDir);
  say(`compiled the processes under test in ${((Date.now() - started) / 1000).toFixed(1)} s: ${outDir}`);
}

function watchForDeath(server: ManagedProcess | undefined, say: (line: string) => void) {
  void server?.exited.then((info) => {
    if (!server.stopping) say(server.exitError(info).message);
  });
}
