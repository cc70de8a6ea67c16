import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, waitUntil } from '../scripts/local/ports';
import { ConfigError, loadConfig } from '../src/config';
import { DEVELOPMENT_KEY } from '../src/temporal/payloadEncryption';
import { startOwnServers } from '../harness/ownServers';
import { API_KEY, ENCRYPTION_KEYS, WEBHOOK_SECRET } from '../harness/stack';

// Production or development, never something in between: a process that is not configured for production runs
// only when development mode is asked for (MASKLINE_DEVELOPMENT_MODE=true, as `npm start` does), and otherwise
// stops at once with one message naming everything missing. A forgotten secret must not open the door.

const repoRoot = path.resolve(__dirname, '..');
const PRODUCTION = {
  MASKLINE_API_KEY: API_KEY,
  MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
};
type Needed = keyof typeof PRODUCTION;
const NEEDED = Object.keys(PRODUCTION) as Needed[];

/** The runner's environment without any Maskline setting of its own. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(MASKLINE_|NODE_ENV$)/.test(key)));
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('the configuration was accepted');
}

describe('production or development mode, in the configuration', () => {
  it('refuses every partial production configuration, naming each missing variable in one message', () => {
    for (let set = 0; set < 2 ** NEEDED.length; set++) {
      const given = NEEDED.filter((_, bit) => set & (1 << bit));
      const missing = NEEDED.filter((name) => !given.includes(name));
      // Unset and empty are the same: compose writes `VAR=` for a variable it has no value for.
      const env = Object.fromEntries([
        ...given.map((name) => [name, PRODUCTION[name]]),
        ...missing.slice(0, 1).map((name) => [name, '']),
      ]);
      if (missing.length === 0) {
        const config = loadConfig(env);
        assert.equal(config.developmentMode, false);
        assert.equal(config.developmentEncryptionKey, false);
        continue;
      }
      const message = configError(() => loadConfig(env));
      for (const name of NEEDED) {
        assert.equal(message.includes(name), missing.includes(name), `${name} in "${message}"`);
      }
      assert.match(message, /MASKLINE_DEVELOPMENT_MODE=true/);
    }
  });

  it('names bad values and missing variables in the same message', () => {
    const message = configError(() => loadConfig({ MASKLINE_API_KEY: 'short', PORT: 'x' }));
    for (const name of ['MASKLINE_API_KEY', 'PORT', 'MASKLINE_WEBHOOK_SECRET', 'MASKLINE_ENCRYPTION_KEYS']) {
      assert.ok(message.includes(name), `${name} in "${message}"`);
    }
  });

  it('asks the worker only for what it uses: the encryption keys', () => {
    const config = loadConfig({ MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS }, 'worker');
    assert.equal(config.developmentMode, false);
    const message = configError(() =>
      loadConfig({ MASKLINE_API_KEY: API_KEY, MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET }, 'worker'),
    );
    assert.match(message, /MASKLINE_ENCRYPTION_KEYS/);
    assert.doesNotMatch(message, /MASKLINE_API_KEY|MASKLINE_WEBHOOK_SECRET/);
  });

  it('is development mode only when asked for, with the development key, and still checks the secrets it is given', () => {
    const open = loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'true' });
    assert.equal(open.developmentMode, true);
    assert.equal(open.apiKey, null);
    assert.equal(open.webhookSecret, null);
    assert.deepEqual(open.encryptionKeys, [DEVELOPMENT_KEY]);
    assert.equal(open.developmentEncryptionKey, true);
    const partly = loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'true', MASKLINE_API_KEY: API_KEY });
    assert.equal(partly.apiKey, API_KEY);
    for (const off of ['false', '']) {
      assert.match(
        configError(() => loadConfig({ MASKLINE_DEVELOPMENT_MODE: off })),
        /MASKLINE_API_KEY/,
      );
    }
    assert.match(
      configError(() => loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'yes' })),
      /MASKLINE_DEVELOPMENT_MODE/,
    );
  });

  it('refuses development mode with NODE_ENV=production, even fully configured', () => {
    for (const env of [{}, PRODUCTION]) {
      const message = configError(() =>
        loadConfig({ ...env, MASKLINE_DEVELOPMENT_MODE: 'true', NODE_ENV: 'production' }),
      );
      assert.match(message, /MASKLINE_DEVELOPMENT_MODE.*NODE_ENV=production/);
    }
    assert.equal(loadConfig({ ...PRODUCTION, NODE_ENV: 'production' }).developmentMode, false);
  });
});

describe('production or development mode, in the image and compose', () => {
  it('the Docker image runs under NODE_ENV=production and compose pins development mode off', () => {
    const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(runtime, /^ENV NODE_ENV=production$/m);
    assert.doesNotMatch(dockerfile, /^\s*(ENV|ARG)\b.*MASKLINE_DEVELOPMENT_MODE/m);
    const compose = fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
    // The environment both Maskline services take (`environment:` wins over `env_file:`).
    const mask = /^x-maskline-env: &maskline-env\n((?: {2}.*\n)+)/m.exec(compose)?.[1] ?? '';
    assert.match(mask, /^ {2}NODE_ENV: production$/m);
    assert.match(mask, /^ {2}MASKLINE_DEVELOPMENT_MODE: 'false'$/m);
    assert.equal(compose.match(/\*maskline-env/g)?.length, 2, 'both Maskline services take the pinned environment');
    assert.doesNotMatch(compose.replace(mask, ''), /MASKLINE_DEVELOPMENT_MODE|NODE_ENV/);
  });
});

/** A Maskline process entry point as the image or `npm start` runs it; its stdout and stderr, and its exit. */
function startProcess(entry: string, env: NodeJS.ProcessEnv, logLevel = 'info') {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    // Info, whatever the test run's level, unless the test asks for another.
    env: { ...env, LOG_LEVEL: logLevel },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => (output += chunk.toString('utf8'));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    exited,
    output: () => output,
    /** The exit status, or null when still running after `ms` (a bound on a hang, not a speed check). */
    exitWithin: (ms: number) =>
      Promise.race([
        exited.then(([code]) => code),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), ms).unref()),
      ]),
    /** SIGKILL to its process group, should it still run. */
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid ?? 0), 'SIGKILL');
    },
    waitFor: (text: string) =>
      waitUntil(`${entry}: ${text}`, async () => output.includes(text), {
        timeoutMs: 180_000,
        intervalMs: 100,
        abort: exited.then(() => Promise.reject(new Error(`${entry} exited; its output:\n${output}`))),
      }),
  };
}

describe('production or development mode, at a process start', () => {
  for (const [name, entry] of [
    ['the HTTP server', 'src/server/main.ts'],
    ['the worker', 'src/worker/main.ts'],
  ] as const) {
    it(`${name} started without configuration or development mode exits 1, naming what production needs`, async () => {
      const started = startProcess(entry, { ...cleanEnvironment(), PORT: String(await freePort()) });
      const code = await started.exitWithin(60_000);
      started.kill();
      assert.equal(code, 1, started.output());
      assert.match(started.output(), /MASKLINE_ENCRYPTION_KEYS/);
      assert.match(started.output(), /MASKLINE_DEVELOPMENT_MODE=true/);
      if (entry === 'src/server/main.ts') assert.match(started.output(), /MASKLINE_API_KEY.*MASKLINE_WEBHOOK_SECRET/);
    });

    it(`${name} refuses development mode with NODE_ENV=production and exits 1`, async () => {
      const started = startProcess(entry, {
        ...cleanEnvironment(),
        ...PRODUCTION,
        PORT: String(await freePort()),
        NODE_ENV: 'production',
        MASKLINE_DEVELOPMENT_MODE: 'true',
      });
      const code = await started.exitWithin(60_000);
      started.kill();
      assert.equal(code, 1, started.output());
      assert.match(started.output(), /MASKLINE_DEVELOPMENT_MODE.*NODE_ENV=production/);
    });
  }
});

describe('npm start', () => {
  let servers: Awaited<ReturnType<typeof startOwnServers>>;
  before(async () => (servers = await startOwnServers()));
  after(() => servers.stop());

  it('with nothing configured runs in development mode, says so, and serves without credentials', async () => {
    const port = await freePort();
    // `npm start` is scripts/setup.sh, then this; the servers are the test's own, not the default ports.
    const started = startProcess('scripts/start.ts', { ...cleanEnvironment(), ...servers.env, PORT: String(port) });
    try {
      await started.waitFor('Press Ctrl-C to stop.');
      assert.match(started.output(), /DEVELOPMENT MODE/);
      const numbers = await fetch(`http://127.0.0.1:${port}/v1/numbers`);
      assert.equal(numbers.status, 200);
      process.kill(-(started.child.pid ?? 0), 'SIGINT');
      assert.equal(await started.exitWithin(90_000), 0, started.output());
    } finally {
      started.kill();
    }
  });
  it('at LOG_LEVEL=warn is ready too: it asks the worker, it does not wait for an info line', async () => {
    const [port, workerPort] = [await freePort(), await freePort()];
    const started = startProcess(
      'scripts/start.ts',
      {
        ...cleanEnvironment(),
        ...servers.env,
        PORT: String(port),
        MASKLINE_WORKER_METRICS_PORT: String(workerPort),
      },
      'warn',
    );
    try {
      await started.waitFor('Press Ctrl-C to stop.');
      assert.doesNotMatch(started.output(), /"msg":"worker running"/, 'the info line was not written');
      assert.equal((await fetch(`http://127.0.0.1:${workerPort}/healthz`)).status, 200);
      process.kill(-(started.child.pid ?? 0), 'SIGINT');
      assert.equal(await started.exitWithin(90_000), 0, started.output());
    } finally {
      started.kill();
    }
  });
});
