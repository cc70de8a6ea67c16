import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Command } from 'commander';
import { createProgram } from '../src/cli/program';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import { NumberPool } from '../src/store/numberPool';
import { freePort } from '../scripts/local/ports';
import { startFake8x8, type Fake8x8 } from '../harness/fake8x8';
import { API_KEY, WEBHOOK_SECRET, api, startStack, testDatabaseUri, uniqueId, type Stack } from '../harness/stack';

// The command line as an operator runs it: a child process, against a fake of 8x8's API and a running Maskline.

const ROOT = path.resolve(__dirname, '..');
const SECRET = 'maskline-webhook-secret-0123456789';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `maskline <args>` in a child process, with the environment the test gives and no 8x8 credentials of the runner's. */
function maskline(args: string[], env: Record<string, string> = {}, entry = ['--import', 'tsx', 'src/cli/main.ts']) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(EIGHTX8_|MASKLINE_|PORT$)/.test(key)),
  );
  return new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      [...entry, ...args],
      { cwd: ROOT, env: { ...inherited, LOG_LEVEL: 'silent', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function allCommands(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const here = [...prefix, sub.name()];
    return [here, ...allCommands(sub, here)];
  });
}

describe('the maskline command line', () => {
  it('answers --help on every command with its usage', async () => {
    const commands = allCommands(createProgram());
    assert.ok(commands.length >= 15, `found ${commands.length} commands`);
    for (const command of commands) {
      let help = '';
      const program = createProgram();
      const capture = (parent: Command) =>
        parent.commands.forEach((sub) => {
          sub.configureOutput({ writeOut: (text) => (help += text) });
          capture(sub);
        });
      capture(program);
      await assert.rejects(program.parseAsync(['node', 'maskline', ...command, '--help']), {
        code: 'commander.helpDisplayed',
      });
      assert.match(help, new RegExp(`^Usage: maskline ${command.join(' ')}`), command.join(' '));
    }
  });

  it('runs through the npx entry (bin/maskline.mjs) as well', async () => {
    const run = await maskline(['numbers', 'sync', '--help'], {}, ['bin/maskline.mjs']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: maskline numbers sync \[options\]/);
  });

  it('an 8x8 command without credentials exits 1 naming the variables to set', async () => {
    const run = await maskline(['8x8', 'webhooks', 'list']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^maskline: no 8x8 credentials: set EIGHTX8_API_KEY and EIGHTX8_SUBACCOUNT_ID/);
  });

  it('an invalid variable is refused with its name', async () => {
    const run = await maskline(['8x8', 'webhooks', 'list'], {
      EIGHTX8_API_KEY: 'k',
      EIGHTX8_SUBACCOUNT_ID: 'sub-1',
      EIGHTX8_BASE_URL: 'http://voice.8x8.com',
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /EIGHTX8_BASE_URL: must be an https:\/\/ URL/);
  });
});

describe('the command line against 8x8', () => {
  let fake: Fake8x8;
  let database: Database;
  let pool: NumberPool;
  let env: Record<string, string>;

  before(async () => {
    fake = await startFake8x8();
    const mongodbUri = testDatabaseUri(uniqueId('cli').replace(/-/g, '_'));
    database = await connectDatabase(mongodbUri);
    await ensureIndexes(database);
    pool = new NumberPool(database.collections);
    env = {
      EIGHTX8_API_KEY: fake.apiKey,
      EIGHTX8_SUBACCOUNT_ID: fake.subAccountId,
      EIGHTX8_BASE_URL: fake.baseUrl,
      MASKLINE_WEBHOOK_SECRET: SECRET,
      MONGODB_URI: mongodbUri,
    };
  });
  beforeEach(() => database.collections.numbers.deleteMany({}));
  afterEach(() => {
    assert.deepEqual(fake.specViolations, [], "every request and answer conforms to 8x8's OpenAPI file");
    fake.reset();
  });
  after(async () => {
    await database.db.dropDatabase();
    await database.close();
    await fake.close();
  });

  it('8x8 webhooks register points VCA, VCS, VSS, VRU and VNU at our endpoints with the webhook secret', async () => {
    const run = await maskline(['8x8', 'webhooks', 'register', '--public-url', 'https://maskline.example.com/'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(Object.fromEntries(fake.webhooks), {
      VCA: { url: 'https://maskline.example.com/webhooks/8x8/call-action', enabled: true, httpAuthHeader: SECRET },
      VCS: { url: 'https://maskline.example.com/webhooks/8x8/call-status', enabled: true, httpAuthHeader: SECRET },
      VSS: { url: 'https://maskline.example.com/webhooks/8x8/session-summary', enabled: true, httpAuthHeader: SECRET },
      VRU: {
        url: 'https://maskline.example.com/webhooks/8x8/call-recording-status',
        enabled: true,
        httpAuthHeader: SECRET,
      },
      VNU: { url: 'https://maskline.example.com/webhooks/8x8', enabled: true, httpAuthHeader: SECRET },
    });
    assert.match(run.stdout, /registered VCA {2}https:\/\/maskline\.example\.com\/webhooks\/8x8\/call-action/);
    assert.match(run.stdout, /VNU\s+yes\s+set\s+https:\/\/maskline\.example\.com\/webhooks\/8x8\n/);
  });

  it('8x8 webhooks list shows what is registered, and delete removes one type', async () => {
    fake.webhooks.set('VCA', { url: 'https://m.example/webhooks/8x8/call-action', enabled: true, httpAuthHeader: 'x' });
    fake.webhooks.set('VSS', {
      url: 'https://m.example/webhooks/8x8/session-summary',
      enabled: true,
      httpAuthHeader: null,
    });
    const list = await maskline(['8x8', 'webhooks', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(
      list.stdout,
      [
        'TYPE  ENABLED  AUTH HEADER  URL',
        'VCA   yes      set          https://m.example/webhooks/8x8/call-action',
        'VSS   yes      none         https://m.example/webhooks/8x8/session-summary',
        '',
      ].join('\n'),
    );
    const deleted = await maskline(['8x8', 'webhooks', 'delete', 'vca'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'deleted the VCA webhook\n');
    assert.deepEqual([...fake.webhooks.keys()], ['VSS']);
    const unknown = await maskline(['8x8', 'webhooks', 'delete', 'SMS'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /type: must be one of VCA, VCS, VSS, VRU, VNU \(got SMS\)/);
  });

  it('8x8 recording-push-config set, show and delete manage where 8x8 pushes recordings; the password comes from the environment only', async () => {
    const args = [
      '--protocol',
      's3',
      '--host',
      'ap-southeast-2',
      '--port',
      '443',
      '--username',
      'AKIAEXAMPLE',
      '--path',
      '/recordings/',
    ];
    const withoutPassword = await maskline(['8x8', 'recording-push-config', 'set', ...args], env);
    assert.equal(withoutPassword.code, 1);
    assert.match(withoutPassword.stderr, /EIGHTX8_RECORDING_PUSH_PASSWORD is not set/);
    assert.equal(fake.requests.length, 0);

    const set = await maskline(['8x8', 'recording-push-config', 'set', ...args], {
      ...env,
      EIGHTX8_RECORDING_PUSH_PASSWORD: 'secret-key-0123',
    });
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(fake.recordingPushConfig, {
      protocol: 'S3',
      host: 'ap-southeast-2',
      port: 443,
      username: 'AKIAEXAMPLE',
      password: 'secret-key-0123',
      path: '/recordings/',
    });
    assert.doesNotMatch(set.stdout, /secret-key-0123/);
    const show = await maskline(['8x8', 'recording-push-config', 'show'], env);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(
      show.stdout,
      [
        'PROTOCOL  HOST            PORT  USERNAME     PASSWORD  PATH',
        'S3        ap-southeast-2  443   AKIAEXAMPLE  set       /recordings/',
        '',
      ].join('\n'),
    );
    const deleted = await maskline(['8x8', 'recording-push-config', 'delete'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(fake.recordingPushConfig, null);
    const none = await maskline(['8x8', 'recording-push-config', 'show'], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no recording push configuration is set/);
    const badProtocol = await maskline(
      ['8x8', 'recording-push-config', 'set', ...args.map((a) => (a === 's3' ? 'ftp' : a))],
      env,
    );
    assert.equal(badProtocol.code, 1);
    assert.match(badProtocol.stderr, /--protocol: S3 or SFTP \(got ftp\)/);
  });

  it('register refuses to run without MASKLINE_WEBHOOK_SECRET, registering nothing', async () => {
    const run = await maskline(['8x8', 'webhooks', 'register', '--public-url', 'https://m.example'], {
      ...env,
      MASKLINE_WEBHOOK_SECRET: '',
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /MASKLINE_WEBHOOK_SECRET is not set/);
    assert.equal(fake.requests.length, 0);
  });

  it("a wrong API key exits 1 with 8x8's 401 and the variable to check", async () => {
    const run = await maskline(['8x8', 'webhooks', 'list'], { ...env, EIGHTX8_API_KEY: 'revoked-key' });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^maskline: 8x8 answered 401 to GET \S+\/webhooks: API key not found or invalid \(check EIGHTX8_API_KEY\)\n$/,
    );
  });

  it("a registration 8x8 refuses (422) exits 1 with 8x8's statusMessage", async () => {
    const run = await maskline(['8x8', 'webhooks', 'register', '--public-url', 'http://maskline.example.com'], env);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /8x8 answered 422 to POST \S+\/webhooks: Invalid param: url must be an https URL \[errorId /,
    );
  });

  it('numbers sync takes in new Active numbers, disables unusable ones, drains the gone, and says so', async () => {
    await pool.add({ number: '+6560000001', countryCode: 'SG', referenceId: null });
    await pool.add({ number: '+6560000002', countryCode: 'SG', referenceId: null });
    await pool.add({ number: '+6560000003', countryCode: 'SG', referenceId: null });
    await pool.setStatus('+6560000003', 'draining'); // an operator's drain
    fake.numbers = [
      { msisdn: '6560000001', operationalStatus: 'Expiring' },
      { msisdn: '6560000003', operationalStatus: 'Active' },
      { msisdn: '6560000004', operationalStatus: 'Active', referenceId: 'range-9' },
      {
        msisdn: '6560000005',
        operationalStatus: 'Active',
        numberHealth: { isHealthy: false, status: 'UNREACHABLE', lastCheckedTime: '2024-05-16T00:00:00Z' },
      },
    ];

    const dryRun = await maskline(['numbers', 'sync', '--dry-run'], env);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /^Dry run: would add 1, change 2, leave 1 as they are\n/);
    assert.equal((await pool.get('+6560000001'))?.status, 'active', 'a dry run changes nothing');

    const run = await maskline(['numbers', 'sync'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        `Synced the pool with 8x8 subaccount ${fake.subAccountId}: added 1, changed 1 (1 disabled), draining 1, unchanged 1, not added 1`,
        '  + +6560000004  added, active',
        '  ~ +6560000001  active → disabled (Expiring)',
        '  - +6560000002  active → draining (gone from 8x8)',
        '  ! +6560000005  not added (health check failed)',
        '',
      ].join('\n'),
    );
    const statuses = Object.fromEntries((await pool.list()).map((n) => [n.number, n.status]));
    assert.deepEqual(statuses, {
      '+6560000001': 'disabled',
      '+6560000002': 'draining',
      '+6560000003': 'draining',
      '+6560000004': 'active',
    });
    assert.equal((await pool.get('+6560000004'))?.referenceId, 'range-9');
  });

  it('numbers sync against an 8x8 that cannot be reached exits 1 saying so, and changes nothing', async () => {
    await pool.add({ number: '+6560000001', countryCode: 'SG', referenceId: null });
    const port = await freePort();
    const run = await maskline(['numbers', 'sync'], { ...env, EIGHTX8_BASE_URL: `http://127.0.0.1:${port}` });
    assert.equal(run.code, 1);
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 3, run.stderr);
    assert.match(
      lines[0]!,
      /^maskline: 8x8 GET \S+\/numbers failed after 1 attempt: ECONNREFUSED.*: trying again in \d+ ms$/,
    );
    assert.match(lines[2]!, /^maskline: 8x8 GET \S+\/numbers failed after 3 attempts: ECONNREFUSED/);
    assert.equal((await pool.get('+6560000001'))?.status, 'active');
  });

  it('numbers sync of a listing without totalNumbers drains nothing, and says the listing may be incomplete', async () => {
    await pool.add({ number: '+6560000001', countryCode: 'SG', referenceId: null });
    await pool.add({ number: '+6560000002', countryCode: 'SG', referenceId: null });
    fake.numbers = [{ msisdn: '6560000001', operationalStatus: 'Active' }];
    fake.reportedTotal = 'omitted';
    const run = await maskline(['numbers', 'sync'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /: added 0, changed 0, draining 0, unchanged 1; 8x8 gave no total, so numbers it did not list keep their status\n/,
    );
    assert.equal((await pool.get('+6560000002'))?.status, 'active');
  });

  it('numbers sync waits out a short Retry-After of a 429 and goes on; a long one exits 1 saying when', async () => {
    fake.numbers = [{ msisdn: '6560000001', operationalStatus: 'Active' }];
    fake.force({ status: 429, headers: { 'retry-after': '1' } });
    const waited = await maskline(['numbers', 'sync'], env);
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stderr, /^maskline: 8x8 answered 429 .*: trying again in 1 s\n$/);
    assert.match(waited.stdout, /added 1/);
    assert.equal(fake.requests.length, 2);

    fake.force({ status: 429, headers: { 'retry-after': '3600' } });
    const refused = await maskline(['numbers', 'sync'], env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^maskline: 8x8 answered 429 to GET \S+\/numbers: Too Many Requests \(retry after 3600 s\)/,
    );
    assert.equal(fake.requests.length, 3);
  });

  it('8x8 numbers list shows the numbers as 8x8 reports them', async () => {
    fake.numbers = [
      { msisdn: '6560000001', operationalStatus: 'Active', referenceId: 'r1' },
      {
        msisdn: '6560000002',
        operationalStatus: 'Active',
        referenceId: 'r2',
        numberHealth: { isHealthy: false, status: 'UNREACHABLE', lastCheckedTime: '2024-05-16T00:00:00Z' },
      },
    ];
    const run = await maskline(['8x8', 'numbers', 'list'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        'NUMBER       STATUS  HEALTHY  COUNTRY  REFERENCE',
        '+6560000001  Active  -        SG       r1',
        '+6560000002  Active  false    SG       r2',
        '',
      ].join('\n'),
    );
  });
});

describe('the command line against a running Maskline', () => {
  let stack: Stack;
  let env: Record<string, string>;
  const RIDER = '+6591234567';
  const DRIVER = '+6598765432';

  before(async () => {
    stack = await startStack();
    env = { MASKLINE_API_KEY: API_KEY, MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET };
  });
  after(() => stack.stop());

  const cli = (...args: string[]) => maskline([...args, '--api-url', stack.baseUrl], env);

  it('numbers add, list, drain and restore go through the HTTP API', async () => {
    const added = await cli('numbers', 'add', '+65 6000 0101', '--reference-id', 'range-1');
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, 'added +6560000101 (SG): active\n');
    const again = await cli('numbers', 'add', '+6560000101');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Maskline answered 409 number_exists: \+6560000101 is already in the pool/);

    const list = await cli('numbers', 'list');
    assert.match(list.stdout, /^NUMBER\s+STATUS\s+LIVE BOOKINGS\s+COUNTRY\s+REFERENCE\n/);
    assert.match(list.stdout, /\+6560000101\s+active\s+0\s+SG\s+range-1\n/);

    const drained = await cli('numbers', 'drain', '+6560000101');
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /^\+6560000101 is draining: it takes no new bookings; 0 live booking\(s\) keep it\n$/);

    const restored = await cli('numbers', 'restore', '+6560000101');
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(restored.stdout, '+6560000101 is active again: it takes new bookings\n');
    const unknown = await cli('numbers', 'restore', '+6560000199');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Maskline answered 404 number_not_found/);
  });

  it('a wrong MASKLINE_API_KEY exits 1 with the 401 and the variable to check', async () => {
    const run = await maskline(['numbers', 'list', '--api-url', stack.baseUrl], {
      ...env,
      MASKLINE_API_KEY: 'not-the-api-key-000',
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Maskline answered 401 unauthorized: .* \(check MASKLINE_API_KEY\)/);
  });

  describe('with a live booking', () => {
    const bookingId = uniqueId('ride');
    let virtualNumber: string;

    before(async () => {
      await api(stack, 'POST', '/v1/numbers', { number: '+6560000201' });
      const created = await api(stack, 'POST', '/v1/bookings', {
        bookingId,
        parties: [
          { role: 'rider', number: RIDER },
          { role: 'driver', number: DRIVER },
        ],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      virtualNumber = created.body.virtualNumber;
    });

    it('simulate call: the rider calling the virtual number is put through to the driver', async () => {
      const run = await cli('simulate', 'call', '--from', RIDER, '--to', virtualNumber);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^→ CALL_ACTION CALL_RECEIVED {2}from \\${RIDER} to \\${virtualNumber}`));
      assert.match(run.stdout, new RegExp(`1\\. makeCall {2}source \\${virtualNumber}, destination \\${DRIVER}\\n`));
      assert.match(run.stdout, new RegExp(`put the caller through to \\${DRIVER}, who sees \\${virtualNumber}\\.`));
    });

    it('simulate call --json prints the callflow as 8x8 receives it', async () => {
      const run = await cli('simulate', 'call', '--from', DRIVER, '--to', virtualNumber, '--json');
      assert.equal(run.code, 0, run.stderr);
      const answer = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as unknown;
      assert.deepEqual(answer, {
        callflow: [{ action: 'makeCall', params: { source: virtualNumber, destination: RIDER } }],
      });
    });

    it('simulate call: a stranger hears the notice and the call ends', async () => {
      const run = await cli('simulate', 'call', '--from', '+6581112222', '--to', virtualNumber);
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stdout,
        /1\. say {7}"Sorry, this number is not linked to an active booking\. Goodbye\." \(en-US-ZiraRUS\)\n/,
      );
      assert.match(run.stdout, /2\. hangup\n/);
      assert.match(run.stdout, /play the notice to the caller and end the call/);
    });

    it('simulate session posts both legs’ status events and the summary; bookings show lists the call', async () => {
      const run = await cli('simulate', 'session', '--from', RIDER, '--to', virtualNumber, '--duration', '42');
      assert.equal(run.code, 0, run.stderr);
      const posted = run.stdout.split('\n').filter((line) => /^→ (CALL_STATUS|SESSION_SUMMARY)/.test(line));
      assert.deepEqual(
        posted.map((line) => line.replace(/\s+/g, ' ')),
        [
          '→ CALL_STATUS leg A (caller) CALL_INITIATED ← 200 delivered',
          '→ CALL_STATUS leg B (callee) CALL_INITIATED ← 200 delivered',
          '→ CALL_STATUS leg A (caller) CALL_CONNECTED ← 200 delivered',
          '→ CALL_STATUS leg B (callee) CALL_CONNECTED ← 200 delivered',
          '→ CALL_STATUS leg B (callee) CALL_DISCONNECTED ← 200 delivered',
          '→ CALL_STATUS leg A (caller) CALL_DISCONNECTED ← 200 delivered',
          '→ SESSION_SUMMARY session summary COMPLETED ← 200 delivered',
        ],
      );
      const sessionId = /\(session ([0-9a-f-]{36})\)/.exec(run.stdout)?.[1];
      assert.ok(sessionId);

      let shown: Run | undefined;
      for (let attempt = 0; attempt < 50; attempt++) {
        shown = await cli('bookings', 'show', bookingId);
        if (shown.stdout.includes(sessionId) && shown.stdout.includes('COMPLETED')) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(shown?.code, 0, shown?.stderr);
      assert.match(
        shown!.stdout,
        new RegExp(`^Booking ${bookingId}: active\\n  virtual number  \\${virtualNumber}\\n`),
      );
      assert.match(shown!.stdout, /\n {2}rider {11}\+6591234567\n {2}driver {10}\+6598765432\n/);
      assert.match(shown!.stdout, new RegExp(`${sessionId}\\s+rider\\s+COMPLETED\\s+42 s`));
    });

    it('simulate session for a stranger posts only the caller’s leg and a summary without a callee', async () => {
      const run = await cli('simulate', 'session', '--from', '+6581112222', '--to', virtualNumber);
      assert.equal(run.code, 0, run.stderr);
      const posted = run.stdout.split('\n').filter((line) => /^→ (CALL_STATUS|SESSION_SUMMARY)/.test(line));
      assert.deepEqual(
        posted.map((line) => line.replace(/\s+/g, ' ')),
        [
          '→ CALL_STATUS leg A (caller) CALL_INITIATED ← 200 unmatched',
          '→ CALL_STATUS leg A (caller) CALL_CONNECTED ← 200 unmatched',
          '→ CALL_STATUS leg A (caller) CALL_DISCONNECTED ← 200 unmatched',
          '→ SESSION_SUMMARY session summary COMPLETED ← 200 unmatched',
        ],
      );
    });

    it('simulate session of a booking made with record: true posts the recording 8x8 uploads, shown on the booking', async () => {
      const recordedBooking = uniqueId('recorded');
      await api(stack, 'POST', '/v1/numbers', { number: '+6560000202' });
      const created = await api(stack, 'POST', '/v1/bookings', {
        bookingId: recordedBooking,
        parties: [
          { role: 'customer', number: '+6591230001' },
          { role: 'courier', number: '+6598760001' },
        ],
        record: true,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const recordedNumber = created.body.virtualNumber as string;
      const run = await cli('simulate', 'session', '--from', '+6591230001', '--to', recordedNumber, '--duration', '9');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /makeCall {2}source \+\d+, destination \+6598760001, recorded\n/);
      assert.match(run.stdout, /→ CALL_RECORDING_STATUS\s+recording uploaded {2}9 s\s+← 200 delivered\n/);
      let recordings: unknown;
      for (let attempt = 0; attempt < 50 && recordings === undefined; attempt++) {
        const booking = await api(stack, 'GET', `/v1/bookings/${recordedBooking}`);
        recordings = booking.body.calls[0]?.recordings;
        if (recordings === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal((recordings as { durationSeconds: number }[])[0]?.durationSeconds, 9);
    });

    it('bookings show of an unknown booking exits 1 with the 404', async () => {
      const run = await cli('bookings', 'show', 'no-such-booking');
      assert.equal(run.code, 1);
      assert.match(run.stderr, /Maskline answered 404 booking_not_found/);
    });
  });
});
