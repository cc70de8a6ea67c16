import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, waitUntil } from '../scripts/local/ports';
import { startOwnServers } from '../harness/ownServers';

// A Maskline process must stop when it should: on SIGTERM even when whoever read its output is gone (a supervisor
// killed with SIGKILL, a closed terminal), its last log lines then failing with EPIPE; and on a failure at start,
// which must not leave it running with its connections open and doing nothing.

const repoRoot = path.resolve(__dirname, '..');

/** The exit status, or null when the process has not exited within `ms` (a bound on a hang, not a speed check). */
function exitWithin(exited: Promise<[number | null, NodeJS.Signals | null]>, ms: number) {
  return Promise.race([
    exited.then(([code]) => ({ code })),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), ms).unref()),
  ]);
}

describe('Maskline processes stopping', () => {
  let servers: Awaited<ReturnType<typeof startOwnServers>>;
  before(async () => (servers = await startOwnServers()));
  after(() => servers.stop());

  for (const [name, entry, ready] of [
    ['the HTTP server', 'src/server/main.ts', 'http server listening'],
    ['the worker', 'src/worker/main.ts', 'worker running'],
  ] as const) {
    it(`${name} exits on SIGTERM after its stdout reader has gone away`, async () => {
      const started = await startProcess(entry, {});
      try {
        await started.waitFor(ready);
        // The reading end goes away: every later write to stdout fails with EPIPE.
        started.child.stdout.destroy();
        started.child.kill('SIGTERM');
        const stopped = await exitWithin(started.exited, 30_000);
        assert.ok(stopped, `${name} was still running 30 s after SIGTERM`);
        assert.equal(stopped.code, 0);
      } finally {
        started.child.kill('SIGKILL');
      }
    });
  }

  it('a worker that fails at start exits with status 1 and says why, rather than lingering', async () => {
    // A worker with the development key sets up the schedules; one whose keys cannot read them fails at start.
    const first = await startProcess('src/worker/main.ts', {});
    await first.waitFor('schedules set up');
    first.child.kill('SIGTERM');
    assert.equal((await first.exited)[0], 0);

    const otherKeys = `other-key:${Buffer.alloc(32, 7).toString('base64')}`;
    const second = await startProcess('src/worker/main.ts', { MASKLINE_ENCRYPTION_KEYS: otherKeys });
    const stopped = await exitWithin(second.exited, 60_000);
    second.child.kill('SIGKILL');
    assert.ok(stopped, `the worker was still running 60 s after failing; its output:\n${second.output()}`);
    assert.equal(stopped.code, 1);
    assert.match(second.output(), /"level":"fatal".*worker failed/);
    assert.match(second.output(), /not in MASKLINE_ENCRYPTION_KEYS/);
  });

  async function startProcess(entry: string, env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: repoRoot,
      // Development mode, as `npm start` runs them: the worker's schedules are written with the development key.
      env: {
        ...process.env,
        ...servers.env,
        PORT: String(await freePort()),
        LOG_LEVEL: 'info',
        MASKLINE_DEVELOPMENT_MODE: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    return {
      child,
      exited,
      output: () => output,
      waitFor: (line: string) =>
        waitUntil(`${entry}: ${line}`, async () => output.includes(line), {
          timeoutMs: 120_000,
          intervalMs: 100,
          abort: exited.then(() => Promise.reject(new Error(`${entry} exited; its output:\n${output}`))),
        }),
    };
  }
});
