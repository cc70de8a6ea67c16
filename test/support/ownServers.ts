import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFerretDb } from '../../scripts/local/ferretdb';
import { freePort } from '../../scripts/local/ports';
import { Supervisor } from '../../scripts/local/processes';
import { startTemporalDevServer } from '../../scripts/local/temporal';

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
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-own-servers-'));
  const stop = async () => {
    await supervisor.close(10_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const [temporal, ferretdb] = await Promise.all([
      freePort().then((port) => startTemporalDevServer(supervisor, { port })),
      startFerretDb(supervisor, { port: 0, dataDir }),
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
