import fs from 'node:fs';
import { tools } from './paths';
import { isPortFree } from './ports';
import type { LineSink, ManagedProcess, Supervisor } from './processes';

export interface FerretDbOptions {
  /** Loopback port; 0 lets the launcher pick a free one (read back from its readiness line). */
  port: number;
  /**
   * The PostgreSQL database FerretDB keeps its data in (it must exist, e.g. Postgres.createDatabase), as a superuser:
   * the launcher installs event triggers there (infra/ferretdb/gintwins.go).
   */
  postgresUrl: string;
  output?: LineSink;
  readyTimeoutMs?: number;
}

export interface FerretDb {
  host: string;
  port: number;
  /** A connection string for one database; FerretDB speaks to single clients only, hence directConnection. */
  uri(database: string): string;
  process: ManagedProcess;
}

const HOST = '127.0.0.1';

/** Rejects, naming the port, when something listens there already; port 0 is always free. */
export async function requireFreeMongoDbPort(port: number): Promise<void> {
  if (port !== 0 && !(await isPortFree(HOST, port))) {
    throw new Error(
      `MongoDB port ${HOST}:${port} is already in use (a mongod, another FerretDB, or an earlier npm start ` +
        `still running?). Stop it, or set MONGODB_URI to use a MongoDB you run yourself.`,
    );
  }
}

/**
 * Starts our FerretDB launcher (infra/ferretdb) on a PostgreSQL database and resolves once it listens. It holds
 * no data of its own: killed and started again on the same database, it serves the same data.
 */
export async function startFerretDb(supervisor: Supervisor, options: FerretDbOptions): Promise<FerretDb> {
  await requireFreeMongoDbPort(options.port);
  if (!fs.existsSync(tools.ferretdbLauncher)) {
    throw new Error(`FerretDB launcher not found at ${tools.ferretdbLauncher}; run: bash scripts/setup.sh`);
  }
  const proc = supervisor.spawn(
    'FerretDB',
    tools.ferretdbLauncher,
    ['-listen', `${HOST}:${options.port}`, '-postgresql-url', options.postgresUrl, '-watch-parent'],
    {
      output: (line, stream) => {
        if (!line.startsWith('maskline-ferretdb ready')) options.output?.(line, stream);
      },
    },
  );
  const ready = await proc.waitForLine(
    (line) => line.startsWith('maskline-ferretdb ready'),
    options.readyTimeoutMs ?? 30_000,
    'readiness line',
  );
  const port = Number(/mongodb:\/\/[^/]+:(\d+)\//.exec(ready)?.[1]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`FerretDB: unexpected readiness line: ${ready}`);
  return {
    host: HOST,
    port,
    uri: (database) => `mongodb://${HOST}:${port}/${database}?directConnection=true`,
    process: proc,
  };
}
