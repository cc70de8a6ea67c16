import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFerretDb } from '../scripts/local/ferretdb';
import { freePort } from '../scripts/local/ports';
import { createDatabase, dropDatabase, startPostgres } from '../scripts/local/postgres';
import { Supervisor } from '../scripts/local/processes';
import { startTemporalDevServer } from '../scripts/local/temporal';

/**
 * A Temporal dev server (in memory) and a FerretDB of a test file's own, for tests that run Maskline's process
 * entry points: the worker process sets up the service's Temporal schedules, under fixed ids and encrypted with
 * its keys, which on the test run's shared Temporal would meet another test's.
 */
export async function startOwnServers(): Promise<{
  env: { TEMPORAL_ADDRESS: string; MONGODB_URI: string };
  supervisor: Supervisor;
  stop(): Promise<void>;
}> {
  const supervisor = new Supervisor();
  let database: OwnDatabase | undefined;
  const stop = async () => {
    await supervisor.close(10_000);
    await database?.drop();
  };
  try {
    const [temporal, ferretdb] = await Promise.all([
      freePort().then((port) => startTemporalDevServer(supervisor, { port })),
      ownDatabase(supervisor).then((own) => {
        database = own;
        return startFerretDb(supervisor, { port: 0, postgresUrl: own.postgresUrl });
      }),
    ]);
    return {
      env: { TEMPORAL_ADDRESS: temporal.address, MONGODB_URI: ferretdb.uri('maskline') },
      supervisor,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface OwnDatabase {
  /** Where a FerretDB of the test's own keeps its data. */
  postgresUrl: string;
  /** Drops it (or stops its PostgreSQL and deletes the cluster); call once its FerretDB is stopped. */
  drop(): Promise<void>;
}

/**
 * A PostgreSQL database of the test's own: on the test run's PostgreSQL (MASKLINE_TEST_POSTGRES_URL, set by
 * scripts/test.ts), or, when the run has none (MONGODB_URI was given), on a PostgreSQL of its own.
 */
export async function ownDatabase(supervisor: Supervisor): Promise<OwnDatabase> {
  const name = `maskline_own_${randomBytes(6).toString('hex')}`;
  const adminUrl = process.env.MASKLINE_TEST_POSTGRES_URL;
  if (adminUrl) {
    await createDatabase(adminUrl, name);
    return { postgresUrl: databaseUrl(adminUrl, name), drop: () => dropDatabase(adminUrl, name) };
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-own-postgres-'));
  supervisor.removeIfAbandoned(dataDir);
  const postgres = await startPostgres(supervisor, { port: 0, dataDir, durable: false });
  return {
    postgresUrl: await postgres.createDatabase(name),
    async drop() {
      await postgres.process.stop(10_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
