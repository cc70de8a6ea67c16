import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BookingClient } from '../src/bookings/client';
import { CallEventRecorder } from '../src/calls/callEvents';
import { parseCallRecordingStatus } from '../src/eightbyeight';
import { callReceived, callRecordingStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { createLogger } from '../src/logging/logger';
import { CallRecords } from '../src/store/callRecords';
import { CallRoutes } from '../src/store/callRoutes';
import { TemporalReachability } from '../src/temporal/reachability';
import { validateRequestBody, validateResponse, type OpenApiDocument } from '../harness/openapi';
import { EventReceiver, type ReceivedBookingEvent } from '../harness/eventReceiver';
import {
  validateCallActionAnswer,
  validateRecordedCallActionAnswer,
  validateRecordingStatus,
} from '../harness/eightbyeightSchemas';
import { CapturedLogs, api, eventually, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

// Recording, opt-in per booking: the connecting makeCall asks 8x8 to record, 8x8's CALL_RECORDING_STATUS is kept
// with the booking's call and announced to the platform, by role. Through the HTTP API and 8x8-shaped webhooks.

const VIRTUAL_NUMBER = '+6560009001';

let partyCounter = 0;
function parties() {
  partyCounter += 1;
  return [
    { role: 'customer', number: `+659100${String(9000 + partyCounter * 2)}` },
    { role: 'courier', number: `+659100${String(9001 + partyCounter * 2)}` },
  ] as const;
}

describe('calls of a booking made with record: true are recorded, and their recordings reach the platform', () => {
  let stack: Stack;
  let receiver: EventReceiver;
  let records: CallRecords;

  before(async () => {
    receiver = await EventReceiver.start();
    stack = await startStack({
      env: {
        MASKLINE_EVENTS_URL: receiver.url,
        MASKLINE_EVENTS_SECRETS: `whsec_${randomBytes(24).toString('base64')}`,
      },
    });
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: VIRTUAL_NUMBER })).status, 201);
    records = new CallRecords(stack.database.collections);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.down();
  });

  async function book(extra: Record<string, unknown> = {}) {
    const who = parties();
    const bookingId = uniqueId('rec');
    const created = await api(stack, 'POST', '/v1/bookings', { bookingId, parties: who, ...extra });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { bookingId, who, virtualNumber: created.body.virtualNumber as string };
  }

  /** The customer calls the courier: 8x8 asks what to do, and the call is linked to its booking. */
  async function customerCalls(booking: Awaited<ReturnType<typeof book>>) {
    const sessionId = crypto.randomUUID();
    const answer = await webhook(
      stack,
      '/call-action',
      callReceived(booking.who[0].number, booking.virtualNumber, sessionId),
    );
    assert.equal(answer.status, 200);
    // The session link is written off the answer's path, in a batch.
    await eventually(
      () => records.findSession(sessionId),
      (session) => session !== null,
    );
    return { sessionId, answer: answer.body };
  }

  const recordingsOf = async (bookingId: string, sessionId: string) => {
    const booking = await api(stack, 'GET', `/v1/bookings/${bookingId}`);
    return booking.body.calls.find((call: { sessionId: string }) => call.sessionId === sessionId)?.recordings;
  };

  const eventsOf = (bookingId: string, type: string): ReceivedBookingEvent[] =>
    receiver.accepted().filter((event) => event.bookingId === bookingId && event.type === type);

  it('a booking made with record: true connects its calls with callRecording, as 8x8’s recording guide extends the schema', async () => {
    const booking = await book({ record: true });
    const { answer } = await customerCalls(booking);
    assert.deepEqual(answer, {
      callflow: [
        {
          action: 'makeCall',
          params: { source: booking.virtualNumber, destination: booking.who[1].number, callRecording: true },
        },
      ],
    });
    assert.deepEqual(validateRecordedCallActionAnswer(answer).errors, []);
  });

  it('a booking made without record connects its calls without callRecording, within the schema as published', async () => {
    for (const extra of [{}, { record: false }]) {
      const booking = await book(extra);
      const { answer } = await customerCalls(booking);
      assert.deepEqual(answer, {
        callflow: [
          { action: 'makeCall', params: { source: booking.virtualNumber, destination: booking.who[1].number } },
        ],
      });
      assert.deepEqual(validateCallActionAnswer(answer).errors, []);
    }
  });

  it('a record that is not a boolean is refused with 400 naming the field', async () => {
    const answer = await api(stack, 'POST', '/v1/bookings', {
      bookingId: uniqueId('rec'),
      parties: parties(),
      record: 'yes',
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'invalid_request');
    assert.match(answer.body.error.message, /^record: /);
  });

  it('an uploaded recording is shown on the booking’s call and announced once as call.recording_available, by role', async () => {
    const booking = await book({ record: true });
    const { sessionId } = await customerCalls(booking);
    const summary = sessionSummary({
      sessionId,
      caller: booking.who[0].number,
      virtualNumber: booking.virtualNumber,
      callee: booking.who[1].number,
      sessionStatus: 'COMPLETED',
      durationSeconds: 42,
    });
    assert.equal((await webhook(stack, '/session-summary', summary)).status, 200);
    const notice = callRecordingStatus({ sessionId, durationSeconds: 41 });
    assert.deepEqual(validateRecordingStatus(notice.payload).errors, [], 'shaped as 8x8’s recording status');

    const received = await webhook(stack, '/call-recording-status', notice);
    assert.equal(received.status, 200, JSON.stringify(received.body));
    assert.equal(received.body.received, true);
    // 8x8 repeats deliveries; so does the single webhook URL.
    const repeated = await webhook(stack, '', notice);
    assert.deepEqual(repeated.body, { received: true, outcome: 'duplicate' });

    const expected = {
      recordingId: notice.payload.recordingId,
      status: 'completed',
      fileUrl: notice.payload.externalFileUrl,
      durationSeconds: 41,
      startedAt: notice.payload.startRecordingTime,
    };
    assert.deepEqual(
      await eventually(
        () => recordingsOf(booking.bookingId, sessionId),
        (shown) => shown !== undefined,
      ),
      [expected],
    );
    const [announced, ...more] = await eventually(
      async () => eventsOf(booking.bookingId, 'call.recording_available'),
      (events) => events.length > 0,
      30_000,
    );
    assert.deepEqual(announced!.data, {
      sessionId,
      caller: { role: 'customer' },
      callee: { role: 'courier' },
      ...expected,
    });
    assert.deepEqual(
      more.filter((event) => event.id !== announced!.id),
      [],
      'announced once',
    );
    // The call itself keeps the summary's outcome.
    const shown = await api(stack, 'GET', `/v1/bookings/${booking.bookingId}`);
    assert.equal(shown.body.calls[0].status, 'COMPLETED');

    // The booking, its events and 8x8's receipt read as the served OpenAPI document says.
    const document = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as OpenApiDocument;
    const events = await api(stack, 'GET', `/v1/bookings/${booking.bookingId}/events`);
    assert.ok(
      events.body.events.some(
        (record: { event: { type: string } }) => record.event.type === 'call.recording_available',
      ),
    );
    for (const [path, answer] of [
      [`/v1/bookings/${booking.bookingId}`, shown],
      [`/v1/bookings/${booking.bookingId}/events`, events],
    ] as const) {
      assert.deepEqual(validateResponse(document, 'GET', path, answer.status, answer.body), [], path);
    }
    const receipt = validateResponse(document, 'POST', '/webhooks/8x8/call-recording-status', 200, received.body);
    assert.deepEqual(receipt, []);
    assert.deepEqual(validateRequestBody(document, 'POST', '/webhooks/8x8/call-recording-status', notice), []);
    assert.deepEqual(
      validateRequestBody(document, 'POST', '/v1/bookings', { bookingId: 'x', parties: parties(), record: true }),
      [],
    );
  });

  it('a recording notice 8x8 sends with `sessionid` and no recordingId is still kept with its call', async () => {
    const booking = await book({ record: true });
    const { sessionId } = await customerCalls(booking);
    const notice = callRecordingStatus({ sessionId, durationSeconds: 7 });
    const { sessionId: _, recordingId: __, ...rest } = notice.payload;
    const answer = await webhook(stack, '/call-recording-status', {
      ...notice,
      payload: { ...rest, sessionid: sessionId },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const shown = await eventually(
      () => recordingsOf(booking.bookingId, sessionId),
      (recordings) => recordings !== undefined,
    );
    assert.equal(shown[0].recordingId, sessionId);
  });

  it('a recording notice without a session is refused with 400 invalid_webhook and nothing is stored', async () => {
    const before = await stack.database.collections.callEvents.countDocuments({ kind: 'recording' });
    for (const payload of [{}, { sessionId: '' }, { sessionId: 42 }, 'not an object']) {
      const answer = await webhook(stack, '/call-recording-status', {
        namespace: 'VOICE',
        eventType: 'CALL_RECORDING_STATUS',
        payload,
      });
      assert.equal(answer.status, 400, JSON.stringify(payload));
      assert.equal(answer.body.error.code, 'invalid_webhook');
      assert.match(answer.body.error.message, /payload/);
    }
    assert.equal(await stack.database.collections.callEvents.countDocuments({ kind: 'recording' }), before);
  });

  it('a recording notice that comes while Temporal cannot be reached is kept, and reaches its booking later', async () => {
    const booking = await book({ record: true });
    const { sessionId } = await customerCalls(booking);
    const down = new TemporalReachability(async () => false, { probeEveryMs: 60_000 });
    down.suspect();
    while (down.reachable) await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      const logger = createLogger({ level: 'warn', destination: new CapturedLogs() });
      const routes = new CallRoutes(stack.database.collections);
      const taskQueue = stack.config.temporalTaskQueue;
      const outage = new CallEventRecorder(records, routes, new BookingClient(stack.temporal, taskQueue, down), logger);
      const parsed = parseCallRecordingStatus(callRecordingStatus({ sessionId, durationSeconds: 12 }));
      assert.ok(parsed.ok);
      assert.equal(await outage.recordRecording(parsed.value), 'pending');
      assert.equal(await recordingsOf(booking.bookingId, sessionId), undefined);

      const recovered = new CallEventRecorder(records, routes, new BookingClient(stack.temporal, taskQueue), logger);
      await recovered.deliverPending();
      const shown = await eventually(
        () => recordingsOf(booking.bookingId, sessionId),
        (recordings) => recordings !== undefined,
      );
      assert.equal(shown[0].recordingId, parsed.value.recordingId);
    } finally {
      down.close();
    }
  });

  it('erasing an ended booking erases its recordings’ references; retention deletes them once delivered', async () => {
    const erased = await book({ record: true });
    const kept = await book({ record: true });
    for (const booking of [erased, kept]) {
      const { sessionId } = await customerCalls(booking);
      const answer = await webhook(
        stack,
        '/call-recording-status',
        callRecordingStatus({ sessionId, durationSeconds: 3 }),
      );
      assert.equal(answer.body.outcome, 'delivered');
    }
    const recordingEvents = (bookingId: string) =>
      stack.database.collections.callEvents.countDocuments({ bookingId, kind: 'recording' });
    assert.equal(await recordingEvents(erased.bookingId), 1);

    assert.equal((await api(stack, 'POST', `/v1/bookings/${erased.bookingId}/cancel`)).status, 202);
    await stack.temporal.workflow.getHandle(`booking-${erased.bookingId}`).result();
    const erasure = await api(stack, 'DELETE', `/v1/bookings/${erased.bookingId}/data`);
    assert.equal(erasure.status, 202, JSON.stringify(erasure.body));
    assert.equal(await recordingEvents(erased.bookingId), 0);

    assert.equal(await recordingEvents(kept.bookingId), 1);
    await records.deleteOlderThan(new Date(Date.now() + 60_000));
    assert.equal(await recordingEvents(kept.bookingId), 0);
  });
});
