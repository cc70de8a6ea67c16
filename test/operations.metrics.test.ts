import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Runtime } from '@temporalio/worker';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { createLogger } from '../src/logging/logger';
import { createHttpApplication } from '../src/server/httpApplication';
import { freePort, waitUntil } from '../scripts/local/ports';
import { keepForLogScan } from '../harness/logCapture';
import { parseMetrics, sample, scrape, type Samples } from '../harness/metrics';
import { startOwnServers } from '../harness/ownServers';
import {
  CapturedLogs,
  ENCRYPTION_KEYS,
  METRICS_TOKEN,
  api,
  eventually,
  startStack,
  uniqueId,
  webhook,
  type Stack,
} from '../harness/stack';

// The HTTP server runs in this process (its registry is this process's); the worker runs as its own process, as in
// production, so that its metrics port serves its own counters and the Temporal SDK's. Both on a Temporal and a
// store of this file's own: the worker process sets up the service's schedules under fixed ids.

const repoRoot = path.resolve(__dirname, '..');
const RIDER = '+6591237001';
const DRIVERS = ['+6598767001', '+6598767002', '+6598767003'];
const STRANGER = '+6581117001';
const POOL = ['+6560007001', '+6560007002'];

/** The counts after minus the counts before, for the samples named. */
function moved(before: Samples, after: Samples, keys: [string, Record<string, string>?][]): Record<string, number> {
  return Object.fromEntries(
    keys.map(([name, labels = {}]) => [
      `${name}${JSON.stringify(labels)}`,
      sample(after, name, labels) - sample(before, name, labels),
    ]),
  );
}

describe('metrics of the HTTP server and the worker after real traffic', () => {
  let servers: Awaited<ReturnType<typeof startOwnServers>>;
  let stack: Stack;
  let worker: ChildProcessByStdio<null, Readable, Readable>;
  let workerOutput = '';
  let workerMetrics: string;
  let virtualNumbers: string[] = [];
  const httpMetrics = () => scrape(`${stack.baseUrl}/metrics`, METRICS_TOKEN);
  const workerScrape = () => scrape(`${workerMetrics}/metrics`);

  before(async () => {
    servers = await startOwnServers();
    stack = await startStack({ workers: 0, env: servers.env });
    const port = await freePort();
    workerMetrics = `http://127.0.0.1:${port}`;
    worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...servers.env,
        MONGODB_URI: stack.config.mongodbUri,
        TEMPORAL_TASK_QUEUE: stack.config.temporalTaskQueue,
        MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
        MASKLINE_DEVELOPMENT_MODE: 'false',
        MASKLINE_WORKER_METRICS_PORT: String(port),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      workerOutput += text;
      keepForLogScan('metrics-worker', text.split('\n').filter(Boolean));
    });
    worker.stderr.on('data', (chunk: Buffer) => keepForLogScan('metrics-worker', [chunk.toString('utf8')]));
    const exited = once(worker, 'exit');
    await waitUntil('the worker runs', async () => workerOutput.includes('"msg":"worker running"'), {
      timeoutMs: 120_000,
      intervalMs: 100,
      abort: exited.then(() => Promise.reject(new Error(`the worker exited:\n${workerOutput}`))),
    });
    for (const number of POOL) assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
  });
  after(async () => {
    if (worker.exitCode === null) {
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    await stack?.stop();
    await servers?.stop();
    // No worker of this process ever opened a native connection, whose closing would have shut the SDK's Runtime
    // (installed by startStack, forwarding core logs on a timer) down: the file's process would never exit.
    await Runtime._instance?.shutdown();
  });

  it('counts booking creations by result, and the worker its allocation attempts', async () => {
    const [httpBefore, workerBefore] = [await httpMetrics(), await workerScrape()];
    const booking = (bookingId: string, driver: string) =>
      api(stack, 'POST', '/v1/bookings', {
        bookingId,
        parties: [
          { role: 'rider', number: RIDER },
          { role: 'driver', number: driver },
        ],
      });
    const first = uniqueId('metrics');
    const answers = [
      await booking(first, DRIVERS[0] ?? ''),
      await booking(first, DRIVERS[0] ?? ''),
      await booking(first, DRIVERS[1] ?? ''),
      await booking(uniqueId('metrics'), DRIVERS[1] ?? ''),
      // The rider holds both numbers of the pool now.
      await booking(uniqueId('metrics'), DRIVERS[2] ?? ''),
      await api(stack, 'POST', '/v1/bookings', { bookingId: 'x', parties: [] }),
    ];
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [201, 200, 409, 201, 409, 400],
      JSON.stringify(answers.map((answer) => answer.body)),
    );
    virtualNumbers = [answers[0]?.body.virtualNumber, answers[3]?.body.virtualNumber];

    const [httpAfter, workerAfter] = [await httpMetrics(), await workerScrape()];
    const result = (value: string): [string, Record<string, string>] => [
      'maskline_booking_creations_total',
      { result: value },
    ];
    assert.deepEqual(
      moved(httpBefore, httpAfter, [
        result('created'),
        result('replayed'),
        result('booking_conflict'),
        result('no_number_available'),
        result('invalid'),
        ['maskline_booking_creation_duration_seconds_count'],
      ]),
      {
        'maskline_booking_creations_total{"result":"created"}': 2,
        'maskline_booking_creations_total{"result":"replayed"}': 1,
        'maskline_booking_creations_total{"result":"booking_conflict"}': 1,
        'maskline_booking_creations_total{"result":"no_number_available"}': 1,
        'maskline_booking_creations_total{"result":"invalid"}': 1,
        'maskline_booking_creation_duration_seconds_count{}': 6,
      },
    );
    assert.deepEqual(
      moved(workerBefore, workerAfter, [
        ['maskline_allocation_attempts_total', { result: 'allocated' }],
        ['maskline_allocation_attempts_total', { result: 'refused' }],
        ['maskline_allocation_duration_seconds_count'],
      ]),
      {
        'maskline_allocation_attempts_total{"result":"allocated"}': 2,
        'maskline_allocation_attempts_total{"result":"refused"}': 1,
        'maskline_allocation_duration_seconds_count{}': 3,
      },
    );
    // The Temporal SDK's own metrics come through the worker's port too.
    assert.ok(
      [...workerAfter.keys()].some((key) => key.startsWith('temporal_')),
      `no temporal_ metric: ${[...workerAfter.keys()].slice(0, 20).join(' ')}`,
    );
  });

  it('shows the pool by status and country, the live bookings, and that Temporal is reachable', async () => {
    // The store figures are read at most every 15 s.
    const figures = await eventually(
      httpMetrics,
      (samples) => sample(samples, 'maskline_pool_live_bookings') === 2,
      40_000,
    );
    assert.equal(sample(figures, 'maskline_pool_numbers', { status: 'active', country: 'SG' }), 2);
    assert.equal(sample(figures, 'maskline_call_events_pending'), 0);
    assert.equal(sample(figures, 'maskline_temporal_reachable'), 1);

    assert.equal((await api(stack, 'DELETE', `/v1/numbers/${encodeURIComponent(POOL[1] ?? '')}`)).status, 202);
    const drained = await eventually(
      httpMetrics,
      (samples) => sample(samples, 'maskline_pool_numbers', { status: 'draining', country: 'SG' }) === 1,
      40_000,
    );
    assert.equal(sample(drained, 'maskline_pool_numbers', { status: 'active', country: 'SG' }), 1);
  });

  it('counts call actions by outcome and webhook refusals by route and status', async () => {
    const before = await httpMetrics();
    const connected = await webhook(stack, '/call-action', callReceived(RIDER, virtualNumbers[0] ?? ''));
    assert.ok(JSON.stringify(connected.body).includes('makeCall'), JSON.stringify(connected.body));
    assert.equal((await webhook(stack, '/call-action', callReceived(STRANGER, virtualNumbers[0] ?? ''))).status, 200);
    assert.equal((await webhook(stack, '/call-action', { eventType: 'CALL_ACTION' })).status, 400);
    assert.equal((await webhook(stack, '/call-action', '{"not json')).status, 400);
    const refused = await webhook(
      stack,
      '/call-action',
      callReceived(RIDER, virtualNumbers[0] ?? ''),
      'wrong-0123456789',
    );
    assert.equal(refused.status, 401);
    assert.equal((await webhook(stack, '/call-status', {}, 'wrong-0123456789')).status, 401);
    const after = await httpMetrics();

    const outcome = (value: string): [string, Record<string, string>] => [
      'maskline_call_actions_total',
      { outcome: value },
    ];
    assert.deepEqual(
      moved(before, after, [
        outcome('connected'),
        outcome('notice'),
        outcome('invalid'),
        outcome('store_timeout'),
        ['maskline_call_action_duration_seconds_count', { outcome: 'connected' }],
        ['maskline_webhook_refusals_total', { route: '/webhooks/8x8/call-action', status: '401' }],
        ['maskline_webhook_refusals_total', { route: '/webhooks/8x8/call-status', status: '401' }],
      ]),
      {
        'maskline_call_actions_total{"outcome":"connected"}': 1,
        'maskline_call_actions_total{"outcome":"notice"}': 1,
        'maskline_call_actions_total{"outcome":"invalid"}': 2,
        'maskline_call_actions_total{"outcome":"store_timeout"}': 0,
        'maskline_call_action_duration_seconds_count{"outcome":"connected"}': 1,
        'maskline_webhook_refusals_total{"route":"/webhooks/8x8/call-action","status":"401"}': 1,
        'maskline_webhook_refusals_total{"route":"/webhooks/8x8/call-status","status":"401"}': 1,
      },
    );
  });

  it('refuses /metrics without the metrics token, and keeps it closed or open as the mode says', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', METRICS_TOKEN]) {
      const answer = await fetch(`${stack.baseUrl}/metrics`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      assert.equal(answer.status, 401, `authorization ${authorization}`);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'unauthorized');
    }
    const variant = async (developmentMode: boolean) => {
      const logger = createLogger({ level: 'silent', destination: new CapturedLogs() });
      const config = { ...stack.config, metricsToken: null, developmentMode };
      const { app, stopObservingFigures } = createHttpApplication(config, {
        database: stack.database,
        temporal: stack.temporal,
        logger,
      });
      const server: Server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      const text = await answer.text();
      server.close();
      stopObservingFigures();
      return { status: answer.status, text };
    };
    const closed = await variant(false);
    assert.equal(closed.status, 404);
    const open = await variant(true);
    assert.equal(open.status, 200);
    assert.ok(parseMetrics(open.text).has('process_cpu_user_seconds_total'));
  });

  it("answers the worker's /healthz with 200 while it polls, then stops on SIGTERM", async () => {
    const health = await fetch(`${workerMetrics}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal((await fetch(`${workerMetrics}/other`)).status, 404);

    const exited = once(worker, 'exit');
    worker.kill('SIGTERM');
    const seen: (number | 'closed')[] = [];
    for (;;) {
      const status = await fetch(`${workerMetrics}/healthz`).then(
        (answer) => answer.status,
        () => 'closed' as const,
      );
      if (seen.at(-1) !== status) seen.push(status);
      if (status === 'closed') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const [code] = await exited;
    assert.equal(code, 0);
    // Once it answered 503 (shutting down), never 200 again.
    const firstStopping = seen.indexOf(503);
    assert.ok(firstStopping === -1 || !seen.slice(firstStopping).includes(200), `seen ${seen.join(' → ')}`);
    console.log(`worker /healthz during shutdown: ${seen.join(' → ')}`);
  });
});
