import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_KEY, api, startStack, uniqueId, type Stack } from '../harness/stack';

// `maskline pool` as an operator runs it: a child process against a running Maskline.

const ROOT = path.resolve(__dirname, '..');
const RIDER = '+6591239001';
const DRIVER = '+6598769001';
const POOL = ['+6560009001', '+6560009002'];

function maskline(args: string[], env: Record<string, string>) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(EIGHTX8_|MASKLINE_|PORT$)/.test(key)),
  );
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...inherited, LOG_LEVEL: 'silent', ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('maskline pool', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
    for (const number of POOL) assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
    const parties = [
      { role: 'rider', number: RIDER },
      { role: 'driver', number: DRIVER },
    ];
    assert.equal((await api(stack, 'POST', '/v1/bookings', { bookingId: uniqueId('pool'), parties })).status, 201);
  });
  after(() => stack.stop());

  it('prints the headroom per country and the vital figures, and no phone number', async () => {
    const run = await maskline(['pool', '--api-url', stack.baseUrl], { MASKLINE_API_KEY: API_KEY });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^COUNTRY +FREE +HELD +UNAVAILABLE +LIVE BOOKINGS +PEOPLE AT CAPACITY +BUSIEST PERSON ROOM$/m,
    );
    assert.match(run.stdout, /^SG +1 +1 +0 +1 +0 +1$/m);
    assert.match(run.stdout, /^Bookings: +1 active, 0 completing$/m);
    assert.match(run.stdout, /^Call events: +0 pending$/m);
    for (const number of [RIDER, DRIVER, ...POOL]) assert.ok(!run.stdout.includes(number.slice(1)), number);
  });

  it('prints the API answer with --json', async () => {
    const run = await maskline(['pool', '--json', '--api-url', stack.baseUrl], { MASKLINE_API_KEY: API_KEY });
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.deepEqual(summary.pool, (await api(stack, 'GET', '/v1/operations/summary')).body.pool);
  });

  it('exits 1 naming the variable to check when the API key is wrong', async () => {
    const run = await maskline(['pool', '--api-url', stack.baseUrl], { MASKLINE_API_KEY: 'wrong-key-0123456789' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /401 unauthorized.*\(check MASKLINE_API_KEY\)/);
  });
});
