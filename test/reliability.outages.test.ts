import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { callReceived, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { validateCallActionAnswer } from '../harness/eightbyeightSchemas';
import { ProcessStack } from '../harness/processStack';
import { eventually, uniqueId } from '../harness/stack';

// Outages of the store and of Temporal, staged for real: FerretDB dies by SIGKILL and comes back on the same port
// and data; the Temporal dev server (state in a file) is stopped and started again. The HTTP server and the
// worker are never restarted: they must ride it out by themselves.

const RIDER = '+6591110001';
const DRIVER = '+6598880001';
const ROUTE_WITHIN_MS = 2_000;

const actionsOf = (answer: { body: { callflow?: { action: string }[] } }) =>
  (answer.body.callflow ?? []).map((step) => step.action);

describe('outages of the store and of Temporal, with real processes', () => {
  let stack: ProcessStack;
  let bookingId: string;
  let virtualNumber: string;
  const figures: Record<string, number> = {};

  before(async () => {
    stack = await ProcessStack.start({ workers: 1 });
    for (const number of ['+6560007001', '+6560007002']) {
      assert.equal((await stack.api('POST', '/v1/numbers', { number })).status, 201);
    }
    bookingId = uniqueId('outage');
    const created = await stack.api('POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: DRIVER },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    virtualNumber = created.body.virtualNumber;
  });
  after(async () => {
    console.log(`reliability (outages): ${JSON.stringify(figures)}`);
    await stack?.stop();
  });

  async function callAction(caller: string) {
    const started = Date.now();
    const answer = await stack.webhook('/call-action', callReceived(caller, virtualNumber, uniqueId('session')));
    return { ...answer, elapsedMs: Date.now() - started };
  }

  it('with the store killed, a caller hears the notice within 2 s; once it is back on its port, calls route again by themselves', async () => {
    await stack.killStore();
    for (let call = 0; call < 3; call++) {
      const answer = await callAction(RIDER);
      assert.equal(answer.status, 200);
      assert.deepEqual(validateCallActionAnswer(answer.body), { valid: true, errors: [] });
      assert.deepEqual(actionsOf(answer), ['say', 'hangup']);
      assert.ok(answer.elapsedMs < ROUTE_WITHIN_MS, `answered in ${answer.elapsedMs} ms`);
      figures.noticeAnswerMs = Math.max(figures.noticeAnswerMs ?? 0, answer.elapsedMs);
    }
    assert.equal((await stack.api('GET', '/readyz')).status, 503);
    assert.equal((await stack.api('GET', '/v1/numbers')).body.error.code, 'store_unavailable');

    const back = Date.now();
    await stack.startStore();
    const routed = await eventually(
      () => callAction(RIDER),
      (answer) => actionsOf(answer)[0] === 'makeCall',
      30_000,
    );
    figures.storeRecoveryMs = Date.now() - back;
    assert.deepEqual(validateCallActionAnswer(routed.body), { valid: true, errors: [] });
    assert.equal(routed.body.callflow[0].params.destination, DRIVER);
  });

  it('with Temporal stopped, calls connect, bookings answer 503 temporal_unavailable, and call events reach the booking once it is back', async () => {
    await stack.stopTemporal();
    const sessionId = uniqueId('session');
    const connected = await stack.webhook('/call-action', callReceived(RIDER, virtualNumber, sessionId));
    assert.equal(actionsOf(connected)[0], 'makeCall');

    const status = callStatus({ sessionId, caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' });
    const summary = sessionSummary({
      sessionId,
      caller: RIDER,
      virtualNumber,
      callee: DRIVER,
      sessionStatus: 'COMPLETED',
      durationSeconds: 42,
    });
    const timed = async <T>(figure: string, request: () => Promise<T>) => {
      const started = Date.now();
      const answer = await request();
      figures[figure] = Math.max(figures[figure] ?? 0, Date.now() - started);
      return answer;
    };
    // All at once, as they would come; the summary twice, as 8x8 may send it: the repeat changes nothing.
    const [refused, ...stored] = await Promise.all([
      timed('bookingRefusalMs', () =>
        stack.api('POST', '/v1/bookings', {
          bookingId: uniqueId('outage'),
          parties: [
            { role: 'rider', number: '+6591110002' },
            { role: 'driver', number: '+6598880002' },
          ],
        }),
      ),
      timed('eventStoredMs', () => stack.webhook('/call-status', status)),
      timed('eventStoredMs', () => stack.webhook('/session-summary', summary)),
      timed('eventStoredMs', () => stack.webhook('/session-summary', summary)),
    ]);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'temporal_unavailable');
    for (const answer of stored) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.received, true);
    }

    // The HTTP server has found Temporal gone (its own ping went unanswered): from now on the platform and 8x8
    // are answered without waiting on it, until it is back.
    await eventually(
      async () =>
        stack.lines.filter((line) => line.startsWith('[http]') && line.includes('Temporal cannot be reached')),
      (lines) => lines.length === 1,
      15_000,
    );
    const [refusedAgain, readAgain, statusAgain] = await Promise.all([
      timed('bookingRefusalKnownDownMs', () =>
        stack.api('POST', '/v1/bookings', {
          bookingId: uniqueId('outage'),
          parties: [
            { role: 'rider', number: '+6591110004' },
            { role: 'driver', number: '+6598880004' },
          ],
        }),
      ),
      stack.api('GET', `/v1/bookings/${bookingId}`),
      timed('eventStoredKnownDownMs', () =>
        stack.webhook(
          '/call-status',
          callStatus({ sessionId, caller: RIDER, virtualNumber, callStatus: 'CALL_DISCONNECTED' }),
        ),
      ),
    ]);
    for (const answer of [refusedAgain, readAgain]) {
      assert.equal(answer.status, 503, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, 'temporal_unavailable');
    }
    assert.equal(statusAgain.status, 200, JSON.stringify(statusAgain.body));
    assert.equal(statusAgain.body.outcome, 'pending');

    const back = Date.now();
    await stack.startTemporal();
    const booking = await eventually(
      () => stack.api('GET', `/v1/bookings/${bookingId}`),
      (answer) => answer.status === 200 && answer.body.calls.some((call: { endedAt?: string }) => call.endedAt),
      60_000,
    );
    figures.eventsDeliveredAfterMs = Date.now() - back;
    assert.deepEqual(booking.body.calls, [
      {
        sessionId,
        callerRole: 'rider',
        startedAt: summary.payload.startTime,
        status: 'COMPLETED',
        endedAt: summary.payload.endTime,
        durationSeconds: 42,
      },
    ]);
    const client = await MongoClient.connect(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
    try {
      const events = await client.db().collection('callEvents').find({ sessionId }).toArray();
      assert.deepEqual(events.map((event) => [String(event._id).split(':')[0], event.delivered]).sort(), [
        ['status', true],
        ['status', true],
        ['summary', true],
      ]);
      figures.eventsLost = 0;
    } finally {
      await client.close();
    }

    const again = await stack.api('POST', '/v1/bookings', {
      bookingId: uniqueId('outage'),
      parties: [
        { role: 'rider', number: '+6591110003' },
        { role: 'driver', number: '+6598880003' },
      ],
    });
    assert.equal(again.status, 201, 'bookings are made again without restarting anything');
  });
});
