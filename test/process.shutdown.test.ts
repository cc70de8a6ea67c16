import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFerretDb } from '../scripts/local/ferretdb';
import { freePort, waitUntil } from '../scripts/local/ports';
import { Supervisor } from '../scripts/local/processes';
import { startTemporalDevServer } from '../scripts/local/temporal';

// A Maskline process must stop on SIGTERM even when whoever read its output is gone (a supervisor killed with
// SIGKILL, a closed terminal): its last log lines then fail with EPIPE, and that must not keep it alive.

const repoRoot = path.resolve(__dirname, '..');

describe('stopping with nobody reading the output', () => {
  // Servers of its own: the worker process sets up the service's Temporal schedules, which on the test run's
  // shared Temporal would be taken from the tests that use them.
  const supervisor = new Supervisor();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-shutdown-'));
  let servers: { TEMPORAL_ADDRESS: string; MONGODB_URI: string };
  before(async () => {
    const [temporal, ferretdb] = await Promise.all([
      freePort().then((port) => startTemporalDevServer(supervisor, { port })),
      startFerretDb(supervisor, { port: 0, dataDir }),
    ]);
    servers = { TEMPORAL_ADDRESS: temporal.address, MONGODB_URI: ferretdb.uri('maskline') };
  });
  after(async () => {
    await supervisor.close(10_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  for (const [name, entry, ready] of [
    ['the HTTP server', 'src/server/main.ts', 'http server listening'],
    ['the worker', 'src/worker/main.ts', 'worker running'],
  ] as const) {
    it(`${name} exits on SIGTERM after its stdout reader has gone away`, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: repoRoot,
        env: { ...process.env, ...servers, PORT: String(await freePort()), LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      try {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        await waitUntil(`${name} ready`, async () => output.includes(ready), {
          timeoutMs: 120_000,
          intervalMs: 100,
          abort: exited.then(() => Promise.reject(new Error(`${name} exited before it was ready`))),
        }).catch((error: Error) => Promise.reject(new Error(`${error.message}; its output:\n${output}`)));
        // The reading end goes away: every later write to stdout fails with EPIPE.
        child.stdout.destroy();
        child.kill('SIGTERM');
        const stopped = await Promise.race([
          exited.then(([code]) => ({ code })),
          new Promise<null>((resolve) => setTimeout(() => resolve(null), 30_000).unref()),
        ]);
        assert.ok(stopped, `${name} was still running 30 s after SIGTERM`);
        assert.equal(stopped.code, 0);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }
});
