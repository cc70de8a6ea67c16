import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { freePort } from '../scripts/local/ports';
import { API_KEY, WEBHOOK_SECRET, api, eventually, startStack, uniqueId, type Stack } from '../harness/stack';

// Trying events locally, as a developer would: `maskline events listen` as the platform's receiver, a simulated
// call, and `maskline bookings events` to read back what was sent.

const ROOT = path.resolve(__dirname, '..');
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const RIDER = '+6591234001';
const DRIVER = '+6598765001';

function cliEnvironment(extra: Record<string, string>) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(EIGHTX8_|MASKLINE_|PORT$)/.test(key)),
  );
  return { ...inherited, LOG_LEVEL: 'silent', ...extra };
}

function maskline(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: cliEnvironment(env), timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('maskline events listen and maskline bookings events', { timeout: 180_000 }, () => {
  let listener: ChildProcess;
  let printed = '';
  let listenerUrl: string;
  let stack: Stack;

  before(async () => {
    const port = await freePort();
    listener = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'events', 'listen', '--port', String(port), '--secrets', SECRET],
      { cwd: ROOT, env: cliEnvironment({}), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    listener.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    await eventually(
      async () => printed,
      (text) => text.includes('listening on'),
      30_000,
    );
    listenerUrl = `http://127.0.0.1:${port}/`;
    stack = await startStack({ env: { MASKLINE_EVENTS_URL: listenerUrl, MASKLINE_EVENTS_SECRETS: SECRET } });
  });
  after(async () => {
    listener.kill('SIGTERM');
    await stack.stop();
  });

  it('prints each event of a simulated call as it arrives, verified, and bookings events lists them delivered', async () => {
    await api(stack, 'POST', '/v1/numbers', { number: '+6560000301' });
    const bookingId = uniqueId('ride');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: DRIVER },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const env = { MASKLINE_API_KEY: API_KEY, MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET };
    const simulated = await maskline(
      ['simulate', 'session', '--from', RIDER, '--to', created.body.virtualNumber, '--api-url', stack.baseUrl],
      env,
    );
    assert.equal(simulated.code, 0, simulated.stderr);

    const lines = await eventually(
      async () => printed.split('\n').filter((line) => line.startsWith('✓') && line.includes(bookingId)),
      (found) => found.length >= 3,
    );
    assert.deepEqual(
      lines.map((line) => line.split(/\s+/)[2]),
      ['booking.active', 'call.connected', 'call.ended'],
    );
    assert.ok(!printed.includes(RIDER.slice(1)) && !printed.includes(DRIVER.slice(1)), 'no party number printed');

    const listed = await maskline(['bookings', 'events', bookingId, '--api-url', stack.baseUrl], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^Events of booking ${bookingId}: 3\\n`));
    const rows = listed.stdout.split('\n').filter((line) => line.startsWith('evt_'));
    assert.deepEqual(
      rows.map((row) => row.split(/\s+/).slice(1, 2).concat(row.split(/\s+/).slice(3, 4))),
      [
        ['booking.active', 'delivered'],
        ['call.connected', 'delivered'],
        ['call.ended', 'delivered'],
      ],
    );
  });

  it('answers 401 to an event whose signature does not verify, and says so', async () => {
    const body = JSON.stringify({ id: 'evt_forged', type: 'booking.active', bookingId: 'x', data: {} });
    const forger = new Webhook(`whsec_${randomBytes(24).toString('base64')}`);
    const response = await fetch(listenerUrl, {
      method: 'POST',
      headers: {
        'webhook-id': 'evt_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': forger.sign('evt_forged', new Date(), body),
      },
      body,
    });
    assert.equal(response.status, 401);
    await eventually(
      async () => printed,
      (text) => text.includes('✗ evt_forged  signature does not verify'),
    );
  });
});
