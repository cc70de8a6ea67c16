import fs from 'node:fs';
import { tools } from './paths';
import { isPortFree } from './ports';
import type { LineSink, ManagedProcess, Supervisor } from './processes';

export interface FerretDbOptions {
  /** Loopback port; 0 lets the launcher pick a free one (read back from its readiness line). */
  port: number;
  /** Directory for the SQLite files (created if missing). */
  dataDir: string;
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

/** Starts our FerretDB launcher (infra/ferretdb) and resolves once it listens. */
export async function startFerretDb(supervisor: Supervisor, options: FerretDbOptions): Promise<FerretDb> {
  if (options.port !== 0 && !(await isPortFree(HOST, options.port))) {
    throw new Error(
      `MongoDB port ${HOST}:${options.port} is already in use (a mongod, another FerretDB, or an earlier npm start ` +
        `still running?). Stop it, or set MONGODB_URI to use a MongoDB you run yourself.`,
    );
  }
  if (!fs.existsSync(tools.ferretdbLauncher)) {
    throw new Error(`FerretDB launcher not found at ${tools.ferretdbLauncher}; run: bash scripts/setup.sh`);
  }
  const proc = supervisor.spawn(
    'FerretDB',
    tools.ferretdbLauncher,
    ['-listen', `${HOST}:${options.port}`, '-data-dir', options.dataDir, '-watch-parent'],
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
