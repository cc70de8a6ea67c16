// First: tracing into memory, before the stack's modules load `http`.
import { spans, tracing } from '../harness/tracing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { unmaskedPhoneNumbers } from '../scripts/logScan';
import { API_KEY, WEBHOOK_SECRET, api, eventually, startStack, uniqueId, type Stack } from '../harness/stack';

describe('traces', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ logLevel: 'info' });
    for (const number of ['+6560005001']) {
      assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
    }
  });
  after(async () => {
    await stack.stop();
    await tracing.shutdown();
  });

  it('follows a booking creation in one trace: HTTP request, update-with-start, workflow, allocation', async () => {
    spans.reset();
    const bookingId = uniqueId('traced');
    const created = await fetch(`${stack.baseUrl}/v1/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'x-request-id': bookingId },
      body: JSON.stringify({
        bookingId,
        parties: [
          { role: 'rider', number: '+6591235001' },
          { role: 'driver', number: '+6598765001' },
        ],
      }),
    });
    assert.equal(created.status, 201);
    const server = spans
      .getFinishedSpans()
      .find((span) => span.kind === 1 && span.attributes['http.target'] === '/v1/bookings');
    assert.ok(
      server,
      `no server span: ${spans
        .getFinishedSpans()
        .map((span) => span.name)
        .join(', ')}`,
    );
    const traceId = server.spanContext().traceId;
    const names = await eventually(
      async () =>
        spans
          .getFinishedSpans()
          .filter((span) => span.spanContext().traceId === traceId)
          .map((span) => span.name),
      // The workflow's own span (RunWorkflow) ends with the booking; its update handler's ends with the answer.
      (found) =>
        [
          'HandleUpdate:confirmBooking',
          'StartActivity:allocateVirtualNumber',
          'RunActivity:allocateVirtualNumber',
        ].every((name) => found.includes(name)),
      30_000,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}; all spans: ${spans
          .getFinishedSpans()
          .map((s) => s.name)
          .join(', ')}`,
      );
    });
    assert.ok(names.includes('UpdateWithStartWorkflow:confirmBooking'), `the client's span: ${names.join(', ')}`);
    // Log lines written inside the request carry its trace id: the access-log line among them.
    const access = stack.logs.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'request' && line.requestId === bookingId);
    assert.equal(access?.traceId, traceId);
  });

  it('traces a call action as a request of its own', async () => {
    spans.reset();
    const answer = await fetch(`${stack.baseUrl}/webhooks/8x8/call-action`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: WEBHOOK_SECRET },
      body: JSON.stringify(callReceived('+6591235001', '+6560005001')),
    });
    assert.equal(answer.status, 200);
    await answer.text();
    const server = await eventually(
      async () =>
        spans
          .getFinishedSpans()
          .find((span) => span.kind === 1 && span.attributes['http.target'] === '/webhooks/8x8/call-action'),
      (span) => span !== undefined,
    );
    assert.equal(server?.attributes['http.status_code'], 200);
    // No party number on the span: the body is never read into it.
    assert.deepEqual(unmaskedPhoneNumbers(JSON.stringify(server?.attributes)), []);
  });
});
