import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { EightByEightApiClient, EightByEightApiError } from '../src/eightbyeight/apiClient';
import { freePort } from '../scripts/local/ports';
import { startFake8x8, type Fake8x8 } from '../harness/fake8x8';

// The client against a fake of 8x8's API that checks every request and answer against 8x8's OpenAPI file.

const FAST = { retryDelayMs: 10, timeoutMs: 1_000 };
/** As the command line asks for retries; the worker's client makes one request per call (Temporal retries). */
const RETRYING = { ...FAST, maxAttempts: 3 };

async function rejection(promise: Promise<unknown>): Promise<EightByEightApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EightByEightApiError, `expected an EightByEightApiError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('the 8x8 API client', () => {
  let fake: Fake8x8;
  let client: EightByEightApiClient;
  let retrying: EightByEightApiClient;

  before(async () => {
    fake = await startFake8x8();
    const account = { apiKey: fake.apiKey, subAccountId: fake.subAccountId, baseUrl: `${fake.baseUrl}/` };
    client = new EightByEightApiClient(account, FAST);
    retrying = new EightByEightApiClient(account, RETRYING);
  });
  afterEach(() => {
    assert.deepEqual(fake.specViolations, [], 'every request and answer conforms to 8x8 OpenAPI file');
    fake.reset();
  });
  after(() => fake.close());

  it('registers a webhook with the bearer key and the auth header, and lists it without the header', async () => {
    const url = 'https://maskline.example/webhooks/8x8/call-action';
    const answered = await client.registerWebhook({
      type: 'VCA',
      url,
      httpAuthHeader: 'secret-0123456789abcdef',
      enabled: true,
    });
    assert.deepEqual(answered, [{ type: 'VCA', url, enabled: true, httpAuthHeaderAvailable: true }]);
    const [request] = fake.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, `/api/v1/subaccounts/${fake.subAccountId}/webhooks`);
    assert.equal(request?.authorization, `Bearer ${fake.apiKey}`);
    assert.deepEqual(request?.body, { type: 'VCA', url, httpAuthHeader: 'secret-0123456789abcdef', enabled: true });
    assert.deepEqual(await client.listWebhooks(), answered);
  });

  it('deletes a webhook type, and says 404 when there was none', async () => {
    await client.registerWebhook({
      type: 'VSS',
      url: 'https://maskline.example/webhooks/8x8/session-summary',
      enabled: true,
    });
    await client.deleteWebhook('VSS');
    assert.deepEqual(await client.listWebhooks(), []);
    const error = await rejection(client.deleteWebhook('VSS'));
    assert.equal(error.failure, 'not_found');
    assert.equal(error.details.status, 404);
  });

  it("lists the subaccount's numbers in E.164 with status and health, whether 8x8 writes them with + or not", async () => {
    fake.numbers = [
      { msisdn: '6560000001', operationalStatus: 'Active' },
      {
        msisdn: '+6560000002',
        operationalStatus: 'Active',
        numberHealth: { isHealthy: false, status: 'UNREACHABLE', lastCheckedTime: '2024-05-16T00:00:00Z' },
      },
      { msisdn: '6560000003', operationalStatus: 'Expiring', countryCode: 'sg' },
    ];
    const listing = await client.listNumbers();
    assert.equal(listing.totalNumbers, 3);
    assert.deepEqual(
      listing.numbers.map((n) => [n.msisdn, n.operationalStatus, n.health?.isHealthy ?? null, n.countryCode]),
      [
        ['+6560000001', 'Active', null, 'SG'],
        ['+6560000002', 'Active', false, 'SG'],
        ['+6560000003', 'Expiring', null, 'SG'],
      ],
    );
  });

  it('checks one number by its digits, and answers null for a number 8x8 does not know', async () => {
    fake.numbers = [{ msisdn: '6560000001', referenceId: 'range-7' }];
    const found = await client.getNumber('+6560000001');
    assert.equal(found?.msisdn, '+6560000001');
    assert.equal(found?.referenceId, 'range-7');
    assert.equal(fake.requests[0]?.path, `/api/v1/subaccounts/${fake.subAccountId}/numbers/6560000001`);
    assert.equal(await client.getNumber('+6560000009'), null);
  });

  it('a wrong API key is a 401 that names the variable to check, and is not retried', async () => {
    const wrongKey = new EightByEightApiClient(
      { apiKey: 'not-the-key', subAccountId: fake.subAccountId, baseUrl: fake.baseUrl },
      FAST,
    );
    const error = await rejection(wrongKey.listWebhooks());
    assert.equal(error.failure, 'unauthorized');
    assert.equal(error.details.attempts, 1);
    assert.equal(fake.requests.length, 1);
    assert.match(
      error.message,
      /^8x8 answered 401 to GET \/api\/v1\/subaccounts\/[^ ]+\/webhooks: API key not found or invalid/,
    );
    assert.match(error.message, /EIGHTX8_API_KEY/);
  });

  it('another subaccount than the key’s is a 403 that says which variables to check', async () => {
    const otherSubaccount = new EightByEightApiClient(
      { apiKey: fake.apiKey, subAccountId: 'someone-else', baseUrl: fake.baseUrl },
      FAST,
    );
    const error = await rejection(otherSubaccount.listNumbers());
    assert.equal(error.failure, 'forbidden');
    assert.match(error.message, /403.*Resource not accessible.*EIGHTX8_SUBACCOUNT_ID/);
  });

  it("a refused registration (422) carries 8x8's statusMessage and errorId, and is not retried", async () => {
    const error = await rejection(
      client.registerWebhook({ type: 'VCA', url: 'http://plain-http.example/hook', enabled: true }),
    );
    assert.equal(error.failure, 'rejected');
    assert.equal(error.details.status, 422);
    assert.equal(error.details.statusMessage, 'Invalid param: url must be an https URL');
    assert.match(
      error.message,
      /^8x8 answered 422 to POST \S+\/webhooks: Invalid param: url must be an https URL \[errorId [0-9a-f-]{36}\]$/,
    );
    assert.equal(fake.requests.length, 1);
  });

  it('makes one request per call, and says whether the failure is worth another try: the caller retries', async () => {
    fake.force({ status: 503 });
    const unavailable = await rejection(client.listNumbers());
    assert.equal(unavailable.failure, 'server_error');
    assert.equal(unavailable.transient, true);
    assert.equal(unavailable.details.attempts, 1);
    assert.equal(fake.requests.length, 1);
    fake.force({ dropConnection: true });
    assert.equal((await rejection(client.listWebhooks())).transient, true);
    assert.equal(fake.requests.length, 2);
  });

  it('a 429 is transient and carries Retry-After, whether 8x8 writes it in seconds or as an HTTP date', async () => {
    fake.force({ status: 429, headers: { 'retry-after': '7' } });
    const limited = await rejection(client.listNumbers());
    assert.equal(limited.failure, 'rate_limited');
    assert.equal(limited.transient, true);
    assert.equal(limited.details.status, 429);
    assert.equal(limited.details.retryAfterMs, 7_000);
    assert.match(limited.message, /^8x8 answered 429 to GET \S+\/numbers: Too Many Requests \(retry after 7 s\)$/);

    fake.force({ status: 429, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } });
    const dated = (await rejection(client.listNumbers())).details.retryAfterMs;
    assert.ok(dated !== null && dated > 28_000 && dated <= 30_000, `${dated} ms`);
    fake.force({ status: 429, headers: { 'retry-after': 'Thu, 01 Jan 1970 00:00:00 GMT' } });
    assert.equal((await rejection(client.listNumbers())).details.retryAfterMs, 0);
    fake.force({ status: 429, headers: { 'retry-after': 'soon' } });
    assert.equal((await rejection(client.listNumbers())).details.retryAfterMs, null);
    fake.force({ status: 429 });
    assert.equal((await rejection(client.listNumbers())).transient, true);
    fake.force({ status: 503, headers: { 'retry-after': '2' } });
    assert.equal((await rejection(client.listNumbers())).details.retryAfterMs, 2_000);
  });

  it('with retries (the command line), a 5xx answer is retried with backoff and succeeds when 8x8 recovers', async () => {
    fake.force({ status: 503 }, 2);
    fake.numbers = [{ msisdn: '6560000001' }];
    const listing = await retrying.listNumbers();
    assert.equal(listing.numbers.length, 1);
    assert.equal(fake.requests.length, 3);
  });

  it('with retries, gives up after the last attempt on 5xx, saying how many attempts were made', async () => {
    fake.force({ status: 500, body: { statusCode: 500, statusMessage: 'Internal error' } }, 3);
    const error = await rejection(retrying.listWebhooks());
    assert.equal(error.failure, 'server_error');
    assert.equal(error.transient, true);
    assert.equal(error.details.attempts, 3);
    assert.match(error.message, /500 to GET .* after 3 attempts: Internal error/);
  });

  it('with retries, a dropped connection is retried', async () => {
    fake.force({ dropConnection: true });
    assert.deepEqual(await retrying.listWebhooks(), []);
    assert.equal(fake.requests.length, 2);
  });

  it('with retries, a 429 is tried again after its Retry-After; one longer than the client waits fails at once', async () => {
    const waits: number[] = [];
    const patient = new EightByEightApiClient(
      { apiKey: fake.apiKey, subAccountId: fake.subAccountId, baseUrl: fake.baseUrl },
      { ...RETRYING, maxRetryAfterMs: 5_000, onRetry: ({ delayMs }) => waits.push(delayMs) },
    );
    fake.force({ status: 429, headers: { 'retry-after': '1' } });
    assert.deepEqual(await patient.listWebhooks(), []);
    assert.deepEqual(waits, [1_000]);
    assert.equal(fake.requests.length, 2);

    fake.force({ status: 429, headers: { 'retry-after': '3600' } }, 3);
    const error = await rejection(patient.listWebhooks());
    assert.equal(error.failure, 'rate_limited');
    assert.equal(error.details.attempts, 1);
    assert.match(error.message, /429 .*\(retry after 3600 s\)/);
    assert.equal(fake.requests.length, 3);
  });

  it('a request 8x8 does not answer in time ends at the deadline and is retried, then fails as a timeout', async () => {
    const impatient = new EightByEightApiClient(
      { apiKey: fake.apiKey, subAccountId: fake.subAccountId, baseUrl: fake.baseUrl },
      { timeoutMs: 150, maxAttempts: 2, retryDelayMs: 10 },
    );
    fake.force({ hang: true }, 2);
    const started = Date.now();
    const error = await rejection(impatient.listNumbers());
    const elapsed = Date.now() - started;
    assert.equal(error.failure, 'timeout');
    assert.match(error.message, /failed after 2 attempts: no answer within 150 ms/);
    assert.ok(elapsed >= 300 && elapsed < 2_000, `took ${elapsed} ms`);
  });

  it('a host that refuses connections fails as unreachable after the retries', async () => {
    const port = await freePort();
    const nowhere = new EightByEightApiClient(
      { apiKey: 'k', subAccountId: 'sub-1', baseUrl: `http://127.0.0.1:${port}` },
      { ...FAST, maxAttempts: 2 },
    );
    const error = await rejection(nowhere.listWebhooks());
    assert.equal(error.failure, 'unreachable');
    assert.equal(error.details.attempts, 2);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('a number 8x8 lists that cannot be read fails the listing rather than going missing', async () => {
    fake.numbers = [{ msisdn: '6560000001' }, { msisdn: 'not-a-number' }];
    const error = await rejection(client.listNumbers());
    assert.equal(error.failure, 'unexpected_answer');
    assert.match(error.message, /numbers\.1\.msisdn: not an international phone number: "not-a-number"/);
  });
  it('sets the recording push configuration, reads it back without the password, and deletes it', async () => {
    assert.equal(await client.getRecordingPushConfig(), null, 'none set yet');
    const setup = {
      protocol: 'SFTP',
      host: '203.0.113.10',
      port: 22,
      username: 'recorder',
      password: 'sftp-password-0123',
      path: '/recordings/',
    };
    const expected = {
      protocol: 'SFTP',
      host: '203.0.113.10',
      port: 22,
      username: 'recorder',
      passwordSet: true,
      path: '/recordings/',
    };
    assert.deepEqual(await client.setRecordingPushConfig(setup), expected);
    const request = fake.requests.at(-1);
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, `/api/v1/subaccounts/${fake.subAccountId}/recording-push-config`);
    assert.deepEqual(request?.body, setup);
    assert.deepEqual(await client.getRecordingPushConfig(), expected);

    await client.deleteRecordingPushConfig();
    assert.equal(fake.recordingPushConfig, null);
    assert.equal(await client.getRecordingPushConfig(), null);
  });

  it('a recording push configuration 8x8 refuses fails as rejected with its reason', async () => {
    const error = await rejection(
      client.setRecordingPushConfig({ protocol: 'FTP', host: 'h', port: 21, username: 'u', password: 'p', path: '/' }),
    );
    assert.equal(error.failure, 'rejected');
    assert.equal(error.details.status, 422);
    assert.match(error.message, /Invalid param: protocol/);
  });

  it('a recording push configuration lost between a delete and its retry is deleted all the same', async () => {
    fake.recordingPushConfig = {
      protocol: 'S3',
      host: 'ap-southeast-2',
      port: 443,
      username: 'u',
      password: 'p',
      path: '/',
    };
    fake.force({ status: 503 });
    await retrying.deleteRecordingPushConfig();
    assert.equal(fake.recordingPushConfig, null);
  });
});
