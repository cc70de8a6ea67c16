import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileProject } from '../scripts/local/compile';
import { freePort, waitUntil } from '../scripts/local/ports';
import type { ManagedProcess } from '../scripts/local/processes';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { keepForLogScan } from '../harness/logCapture';
import { startOwnServers } from '../harness/ownServers';
import { API_KEY, ENCRYPTION_KEYS, WEBHOOK_SECRET } from '../harness/stack';

// The production image runs the compiled JavaScript (`npm run build`, then `node dist/src/.../main.js`), not the
// TypeScript sources through tsx as `npm start` and the other tests do. This builds it as the Dockerfile does and
// serves a booking with it: the compiled HTTP server, the compiled worker, and the workflows the worker bundles from
// the compiled files.

const RIDER = '+6591238101';
const DRIVER = '+6598768101';
const VIRTUAL_NUMBER = '+6560008101';

describe('the production build', () => {
  let servers: Awaited<ReturnType<typeof startOwnServers>>;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-build-'));
  let http: ManagedProcess;
  let baseUrl: string;

  before(async () => {
    const [own] = await Promise.all([startOwnServers(), compileProject('tsconfig.build.json', outDir)]);
    servers = own;

    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      ...servers.env,
      NODE_ENV: 'production',
      PORT: String(port),
      MASKLINE_API_KEY: API_KEY,
      MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
      LOG_LEVEL: 'info',
    };
    // Plain `node`, no tsx: what the image runs.
    const start = (name: string, entry: string) =>
      servers.supervisor.spawn(name, process.execPath, [path.join(outDir, entry)], {
        env,
        output: (line) => keepForLogScan(`build-${name}`, [line]),
      });
    const worker = start('worker', 'src/worker/main.js');
    http = start('http', 'src/server/main.js');
    await worker.waitForLine((line) => line.includes('"msg":"worker running"'), 120_000, 'worker start');
    await waitUntil(
      'compiled HTTP server',
      () =>
        api('GET', '/readyz').then(
          (answer) => answer.status === 200,
          () => false,
        ),
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        abort: http.exited.then((info) => Promise.reject(http.exitError(info))),
      },
    );
  });

  after(async () => {
    await servers?.stop();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  async function api(method: string, route: string, body?: unknown, secret = `Bearer ${API_KEY}`) {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: secret, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  it('serves a booking from start to cancellation, and routes its call', async () => {
    assert.equal((await api('POST', '/v1/numbers', { number: VIRTUAL_NUMBER })).status, 201);
    const bookingId = `build-${randomBytes(4).toString('hex')}`;
    const parties = [
      { role: 'rider', number: RIDER },
      { role: 'driver', number: DRIVER },
    ];
    const created = await api('POST', '/v1/bookings', { bookingId, parties });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.virtualNumber, VIRTUAL_NUMBER);

    const call = await api('POST', '/webhooks/8x8/call-action', callReceived(RIDER, VIRTUAL_NUMBER), WEBHOOK_SECRET);
    assert.equal(call.status, 200);
    assert.deepEqual(
      call.body.callflow.map((step: { action: string }) => step.action),
      ['makeCall'],
    );

    const cancelled = await api('POST', `/v1/bookings/${bookingId}/cancel`);
    assert.equal(cancelled.body.status, 'cancelled');
    await waitUntil(
      'the booking ended, its number given back',
      async () => (await api('GET', `/v1/bookings/${bookingId}`)).body.endedAt !== null,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });

  it("serves the operators' dashboard page and its summary from the compiled files", async () => {
    for (const file of ['/dashboard', '/dashboard/dashboard.js', '/dashboard/dashboard.css']) {
      const page = await fetch(`${baseUrl}${file}`);
      assert.equal(page.status, 200, file);
      assert.ok((await page.text()).length > 0, file);
    }
    const summary = await api('GET', '/v1/operations/summary');
    assert.equal(summary.status, 200, JSON.stringify(summary.body));
  });
});
