import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { unmaskedPhoneNumbers } from '../scripts/logScan';
import { API_KEY, WEBHOOK_SECRET, eventually, startStack, type Stack } from '../harness/stack';

const RIDER = '+6591236001';
const VIRTUAL_NUMBER = '+6560006001';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids and the access log', () => {
  let stack: Stack;
  before(async () => {
    // The access log is written at info.
    stack = await startStack({ logLevel: 'info' });
  });
  after(() => stack.stop());

  const send = (path: string, options: { requestId?: string; authorization?: string; body?: unknown } = {}) =>
    fetch(`${stack.baseUrl}${path}`, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.requestId === undefined ? {} : { 'x-request-id': options.requestId }),
        ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  const accessLines = (requestId: string) =>
    stack.logs.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'request' && line.requestId === requestId);

  it('keeps a sane incoming X-Request-Id, answers it, and puts it in the error body', async () => {
    const answer = await send('/v1/bookings/ride-unknown', {
      requestId: 'platform-req.42:7',
      authorization: `Bearer ${API_KEY}`,
    });
    assert.equal(answer.status, 404);
    assert.equal(answer.headers.get('x-request-id'), 'platform-req.42:7');
    const body = (await answer.json()) as { error: { code: string; requestId: string } };
    assert.equal(body.error.code, 'booking_not_found');
    assert.equal(body.error.requestId, 'platform-req.42:7');
  });

  it('gives a request without a sane X-Request-Id one of its own, never echoing what was sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant(undefined),
          fc.constant(RIDER),
          fc.constant('a'.repeat(129)),
          fc.constant(''),
          fc
            .string({ minLength: 1, maxLength: 40 })
            .filter((s) => /[^A-Za-z0-9._:-]/.test(s) && /^[\x21-\x7e]+$/.test(s)),
        ),
        async (requestId) => {
          const answer = await send('/v1/numbers', { requestId });
          const given = answer.headers.get('x-request-id') ?? '';
          assert.match(given, UUID, `sent ${requestId}`);
          const body = (await answer.json()) as { error: { code: string; requestId: string } };
          assert.equal(body.error.code, 'unauthorized');
          assert.equal(body.error.requestId, given);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('writes one access-log line per request, with route and status, and no party number', async () => {
    const call = await send('/webhooks/8x8/call-action?caller=6591236001', {
      requestId: 'call-action-1',
      authorization: WEBHOOK_SECRET,
      body: callReceived(RIDER, VIRTUAL_NUMBER),
    });
    assert.equal(call.status, 200);
    assert.equal(call.headers.get('x-request-id'), 'call-action-1');
    // Written once the answer has gone out.
    const [line, ...more] = await eventually(
      async () => accessLines('call-action-1'),
      (lines) => lines.length > 0,
    );
    assert.equal(more.length, 0, 'one line per request');
    assert.ok(line, `no access-log line: ${stack.logs.lines.slice(-5).join('\n')}`);
    assert.equal(line.method, 'POST');
    assert.equal(line.path, '/webhooks/8x8/call-action');
    assert.equal(line.route, '/webhooks/8x8/call-action');
    assert.equal(line.status, 200);
    assert.equal(typeof line.responseTimeMs, 'number');
    assert.deepEqual(unmaskedPhoneNumbers(JSON.stringify(line)), []);

    const error = await send('/v1/numbers', { requestId: 'refused-1' });
    assert.equal(error.status, 401);
    const [refused] = await eventually(
      async () => accessLines('refused-1'),
      (lines) => lines.length > 0,
    );
    assert.equal(refused?.status, 401);
    assert.equal(refused?.route, undefined, 'a refused request names no route it did not reach');
  });
});
