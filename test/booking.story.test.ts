import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callReceived, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { validateCallActionAnswer } from '../harness/eightbyeightSchemas';
import { api, eventually, startStack, uniqueId, webhook as post, type Stack } from '../harness/stack';

/** Every callflow we answer must be one 8x8 accepts: checked against its published schemas on each call. */
async function webhook(stack: Stack, path: string, body: unknown) {
  const answer = await post(stack, path, body);
  if (path === '/call-action')
    assert.deepEqual(validateCallActionAnswer(answer.body).errors, [], JSON.stringify(answer.body));
  return answer;
}

const RIDER = '+6591234567';
const DRIVER = '+6598765432';
const STRANGER = '+6581112222';

describe('a booking from confirmation to release', () => {
  let stack: Stack;
  let virtualNumber: string;
  const bookingId = uniqueId('ride');

  before(async () => {
    stack = await startStack();
    for (const number of ['+6560000001', '+6560000002']) {
      assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
    }
  });
  after(() => stack.stop());

  it('creates the booking and answers with its virtual number', async () => {
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: '+65 9876 5432' },
      ],
      gracePeriodSeconds: 2,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'active');
    assert.match(created.body.virtualNumber, /^\+656000000[12]$/);
    assert.deepEqual(created.body.parties[1], { role: 'driver', number: DRIVER });
    virtualNumber = created.body.virtualNumber;
  });

  it('answers the same request again with the same virtual number', async () => {
    const again = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: DRIVER },
      ],
      gracePeriodSeconds: 2,
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.virtualNumber, virtualNumber);
  });

  it('refuses the same bookingId with other parties', async () => {
    const conflict = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: STRANGER },
      ],
    });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'booking_conflict');
  });

  it('puts the rider through to the driver, showing the virtual number', async () => {
    const answer = await webhook(stack, '/call-action', callReceived(RIDER, virtualNumber));
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.callflow, [
      { action: 'makeCall', params: { source: virtualNumber, destination: DRIVER } },
    ]);
  });

  it('puts the driver calling back (a missed call) through to the rider', async () => {
    const answer = await webhook(stack, '/call-action', callReceived(DRIVER, virtualNumber));
    assert.deepEqual(answer.body.callflow, [
      { action: 'makeCall', params: { source: virtualNumber, destination: RIDER } },
    ]);
  });

  it('lets a stranger hear the notice, then ends the call', async () => {
    const answer = await webhook(stack, '/call-action', callReceived(STRANGER, virtualNumber));
    assert.equal(answer.status, 200);
    assert.deepEqual(
      answer.body.callflow.map((action: { action: string }) => action.action),
      ['say', 'hangup'],
    );
    assert.equal(answer.body.callflow[0].params.text, stack.config.unknownCallerNotice);
  });

  it('a caller who withheld their number hears the notice, answered 200', async () => {
    const withheld = callReceived(RIDER, virtualNumber);
    withheld.payload.source = 'anonymous';
    const answer = await webhook(stack, '/call-action', withheld);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.callflow[0].action, 'say');
  });

  it('records call status and the session summary on the booking, once', async () => {
    const sessionId = uniqueId('session');
    await webhook(stack, '/call-action', callReceived(RIDER, virtualNumber, sessionId));
    const connected = callStatus({ sessionId, caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' });
    assert.equal((await webhook(stack, '/call-status', connected)).status, 200);
    assert.equal((await webhook(stack, '/call-status', connected)).body.outcome, 'duplicate');
    const summary = sessionSummary({
      sessionId,
      caller: RIDER,
      virtualNumber,
      callee: DRIVER,
      sessionStatus: 'COMPLETED',
      durationSeconds: 42,
    });
    assert.equal((await webhook(stack, '/session-summary', summary)).status, 200);
    assert.equal((await webhook(stack, '', summary)).body.outcome, 'duplicate');

    const booking = await eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (answer) =>
        answer.body.calls.some(
          (call: { sessionId: string; status: string }) => call.sessionId === sessionId && call.status === 'COMPLETED',
        ),
    );
    const call = booking.body.calls.find((c: { sessionId: string }) => c.sessionId === sessionId);
    assert.equal(call.callerRole, 'rider');
    assert.equal(call.durationSeconds, 42);
    assert.equal(booking.body.calls.filter((c: { sessionId: string }) => c.sessionId === sessionId).length, 1);
  });

  it('keeps connecting calls during the grace period after completion', async () => {
    const completed = await api(stack, 'POST', `/v1/bookings/${bookingId}/complete`);
    assert.equal(completed.status, 202);
    assert.equal(completed.body.status, 'completing');
    const answer = await webhook(stack, '/call-action', callReceived(DRIVER, virtualNumber));
    assert.equal(answer.body.callflow[0].action, 'makeCall');
  });

  it('releases the number after the grace period: the caller hears the notice and the number is free', async () => {
    const ended = await eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (answer) => answer.body.status === 'completed' && answer.body.endedAt !== null,
    );
    assert.equal(ended.body.virtualNumber, virtualNumber);
    const answer = await webhook(stack, '/call-action', callReceived(RIDER, virtualNumber));
    assert.deepEqual(
      answer.body.callflow.map((action: { action: string }) => action.action),
      ['say', 'hangup'],
    );
    const numbers = await api(stack, 'GET', '/v1/numbers');
    assert.ok(numbers.body.numbers.every((n: { liveBookings: number }) => n.liveBookings === 0));
  });

  it('refuses to complete or cancel a booking that has ended', async () => {
    const again = await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'booking_closed');
  });
});
