import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bookingWorkflowId } from '../src/bookings/contract';
import { API_KEY, WEBHOOK_SECRET, api, startStack, uniqueId, type Stack } from '../harness/stack';

// `maskline simulate` playing a party of a booking, live or ended, and showing the booking events the call made.

const ROOT = path.resolve(__dirname, '..');
const VN = '+6560007101';

function maskline(args: string[]) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(EIGHTX8_|MASKLINE_|PORT$)/.test(key)),
  );
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: ROOT,
        env: { ...inherited, LOG_LEVEL: 'silent', MASKLINE_API_KEY: API_KEY, MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('maskline simulate plays a party of a booking and shows its events', { timeout: 180_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      env: {
        MASKLINE_ENDED_BOOKING_WINDOW: '2h',
        MASKLINE_EVENTS_SECRETS: `whsec_${randomBytes(24).toString('base64')}`,
      },
    });
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: VN })).status, 201);
  });
  after(async () => stack?.stop());

  async function booking(parties: [string, string], outOfSession?: object) {
    const bookingId = uniqueId('sim');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: parties[0] },
        { role: 'driver', number: parties[1] },
      ],
      ...(outOfSession ? { outOfSession } : {}),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return bookingId;
  }

  it('a whole session of a live booking’s rider: put through, and call.connected then call.ended', async () => {
    const bookingId = await booking(['+6591237101', '+6598767101']);
    const run = await maskline(['simulate', 'session', '--booking', bookingId, '--api-url', stack.baseUrl]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /its rider calls \+6560007101/);
    assert.match(run.stdout, /makeCall {2}source \+6560007101, destination \+6598767101/);
    assert.match(run.stdout, /the events this call produced\n\s+call\.connected .*\n\s+call\.ended /);
  });

  it('a late caller of an ended booking (--as driver) hears the notice, and the booking hears call.turned_away', async () => {
    const bookingId = await booking(['+6591237102', '+6598767102'], { afterEnd: 'notice' });
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
    await stack.temporal.workflow
      .getHandle(bookingWorkflowId(bookingId))
      .result()
      .catch(() => undefined);
    const run = await maskline([
      'simulate',
      'call',
      '--booking',
      bookingId,
      '--as',
      'driver',
      '--api-url',
      stack.baseUrl,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /booking \S+ is cancelled: its driver calls \+6560007101/);
    assert.match(run.stdout, /1\. say /);
    assert.match(run.stdout, /call\.turned_away .*"caller":\{"role":"driver"\}.*"handledAs":"notice"/);
  });

  it('the courier of a three-party booking hears the menu, and --digits 2 puts it through to the restaurant', async () => {
    const bookingId = uniqueId('sim3');
    const [customer, courier, restaurant] = ['+6591237104', '+6598767104', '+6561237104'];
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'customer', number: customer },
        { role: 'courier', number: courier },
        { role: 'restaurant', number: restaurant },
      ],
      reach: { customer: ['courier'], restaurant: ['courier'], courier: ['customer', 'restaurant'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const asCourier = ['simulate', 'session', '--booking', bookingId, '--as', 'courier', '--api-url', stack.baseUrl];
    const chose = await maskline([...asCourier, '--digits', '2']);
    assert.equal(chose.code, 0, chose.stderr);
    assert.match(chose.stdout, /sayAndCapture "Press 1 for the customer, 2 for the restaurant\." \(1-1 keys\)/);
    assert.match(chose.stdout, /ACTION_COMPLETED {2}the caller pressed 2/);
    assert.match(chose.stdout, new RegExp(`makeCall {2}source \\${VN}, destination \\${restaurant}`));
    assert.match(chose.stdout, /call\.connected .*"caller":\{"role":"courier"\},"callee":\{"role":"restaurant"\}/);

    const undecided = await maskline(asCourier.map((arg) => (arg === 'session' ? 'call' : arg)));
    assert.equal(undecided.code, 0, undecided.stderr);
    assert.match(undecided.stdout, /give --digits to press them/);
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
  });

  it('says which roles a booking has when --as names none of them', async () => {
    const bookingId = await booking(['+6591237103', '+6598767103']);
    const run = await maskline([
      'simulate',
      'call',
      '--booking',
      bookingId,
      '--as',
      'chef',
      '--api-url',
      stack.baseUrl,
    ]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /has no party chef \(its roles: rider, driver\)/);
  });

  it('--digits keys in the PIN of a PIN-fallback booking: the right one puts the call through, a wrong one is asked again', async () => {
    const pinNumber = '+6560007102';
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: pinNumber, use: 'pin' })).status, 201);
    // The rider holds the one ordinary number already, so the second booking falls back to the PIN set.
    await booking(['+6591237104', '+6598767104']);
    const bookingId = uniqueId('sim');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: '+6591237104' },
        { role: 'driver', number: '+6598767105' },
      ],
      fallback: 'pin',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.mode, 'pin');
    const pin = created.body.pin as string;
    const wrong = String((Number(pin) + 1) % 10_000).padStart(4, '0');
    const play = (digits: string) =>
      maskline([
        'simulate',
        'session',
        '--booking',
        bookingId,
        '--as',
        'driver',
        '--digits',
        digits,
        '--api-url',
        stack.baseUrl,
      ]);

    const right = await play(pin);
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /sayAndCapture/);
    assert.match(right.stdout, new RegExp(`ACTION_COMPLETED {2}the caller pressed ${pin} {2}\\(pin-1\\)`));
    assert.match(right.stdout, /makeCall {2}source \+6560007102, destination \+6591237104/);
    assert.match(right.stdout, /call\.connected .*\n\s+call\.ended /);

    const asked = await play(wrong);
    assert.equal(asked.code, 0, asked.stderr);
    assert.doesNotMatch(asked.stdout, /makeCall/);
    assert.match(asked.stdout, /ask the caller to press keys \(a PIN, or a menu choice\)/);
  });
});
