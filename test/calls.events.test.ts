import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Client, defaultPayloadConverter } from '@temporalio/client';
import fc from 'fast-check';
import { BookingClient } from '../src/bookings/client';
import { CallEventRecorder } from '../src/calls/callEvents';
import { parseCallStatus, parseSessionSummary } from '../src/eightbyeight';
import { createLogger } from '../src/logging/logger';
import { CallRecords, SessionBatcher } from '../src/store/callRecords';
import { CallRoutes } from '../src/store/callRoutes';
import { EncryptionCodec, createDataConverter } from '../src/temporal/payloadEncryption';
import { TemporalReachability } from '../src/temporal/reachability';
import { bookingWorkflowId, type CallEventSignal } from '../src/bookings/contract';
import { callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { CapturedLogs, api, eventually, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

// 8x8 sends call events at least once, in no particular order, and we may hold them while Temporal cannot take
// them. Whatever happens meanwhile, every event answered 2xx is kept, and each booking ends up showing what the
// events say, as if they had come in order.

const CALLER = '+6591238001';
const CALLEE = '+6598768001';
const VIRTUAL_NUMBER = '+6560008001';
// A booking whose every call event Temporal refuses (in these tests: it is sent to a namespace that does not exist).
const UNREACHABLE_BOOKING = 'unreachable-booking';

type Transport = 'up' | 'down' | 'refusing';

describe('call events reach their booking, none lost, whatever fails meanwhile', () => {
  let stack: Stack;
  let records: CallRecords;
  let routes: CallRoutes;
  let clients: Record<Transport, BookingClient>;
  let down: TemporalReachability;
  const liveBookings: string[] = [];
  let endedBooking: string;
  let stuckBooking: string;
  // Kept, so that a failing assertion can say what Temporal answered when a delivery was postponed.
  const warnings = new CapturedLogs();
  const logger = createLogger({ level: 'warn', destination: warnings });
  const lastWarnings = () => `last warnings:\n${warnings.lines.slice(-3).join('\n')}`;

  before(async () => {
    stack = await startStack();
    for (let i = 1; i <= 4; i++) await api(stack, 'POST', '/v1/numbers', { number: `+656000810${i}` });
    for (let i = 0; i < 4; i++) {
      const bookingId = uniqueId('events');
      const created = await api(stack, 'POST', '/v1/bookings', {
        bookingId,
        parties: [
          { role: 'rider', number: `+659123810${i}` },
          { role: 'driver', number: `+659876810${i}` },
        ],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      liveBookings.push(bookingId);
    }
    stuckBooking = liveBookings.pop()!;
    endedBooking = liveBookings.pop()!;
    assert.equal((await api(stack, 'POST', `/v1/bookings/${endedBooking}/cancel`)).status, 202);
    await stack.temporal.workflow.getHandle(bookingWorkflowId(endedBooking)).result();

    records = new CallRecords(stack.database.collections);
    routes = new CallRoutes(stack.database.collections);
    const taskQueue = stack.config.temporalTaskQueue;
    // Temporal as the HTTP server finds it down: its ping goes unanswered.
    down = new TemporalReachability(async () => false, { probeEveryMs: 60_000 });
    down.suspect();
    while (down.reachable) await new Promise((resolve) => setTimeout(resolve, 5));
    // Temporal that answers, but refuses every call: the namespace we were configured with does not exist.
    const missingNamespace = new Client({
      connection: stack.temporal.connection,
      namespace: uniqueId('no-such-namespace'),
      dataConverter: createDataConverter(stack.config.encryptionKeys),
    });
    clients = {
      up: new BookingClient(stack.temporal, taskQueue),
      down: new BookingClient(stack.temporal, taskQueue, down),
      refusing: new BookingClient(missingNamespace, taskQueue),
    };
  });
  after(async () => {
    down?.close();
    await stack?.stop();
  });

  /** An HTTP server's recorder; what it reaches Temporal through can be switched, as outages come and go. */
  function server(transport: { now: Transport }) {
    const bookings = {
      recordCallEvent: (id: string, event: CallEventSignal) =>
        clients[id === UNREACHABLE_BOOKING ? 'refusing' : transport.now].recordCallEvent(id, event),
    };
    return new CallEventRecorder(records, routes, bookings, logger);
  }

  /**
   * Redelivers until none of these events is pending: on a loaded machine Temporal may fail a delivery now and then,
   * which leaves the event for the next round, as it should.
   */
  async function catchUp(recorder: CallEventRecorder, pending: () => Promise<number>) {
    for (let round = 0; round < 20 && (await pending()) > 0; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      await recorder.deliverPending();
    }
  }
  const pendingOfSessions = (sessionIds: string[]) => () =>
    stack.database.collections.callEvents.countDocuments({ sessionId: { $in: sessionIds }, delivered: false });

  async function callOf(bookingId: string, sessionId: string) {
    const booking = await clients.up.get(bookingId);
    return booking?.calls.find((call) => call.sessionId === sessionId);
  }

  /**
   * The call as the booking shows it, once it shows `expected` (or after 3 s): a signal taken while a workflow task
   * runs is held by Temporal until that task completes, so a query right after may not see it yet.
   */
  async function callShown(bookingId: string, sessionId: string, expected: unknown) {
    const deadline = Date.now() + 3_000;
    let call = await callOf(bookingId, sessionId);
    while (!isDeepStrictEqual(call, expected) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      call = await callOf(bookingId, sessionId);
    }
    return call;
  }

  async function eventsOfSession(sessionId: string) {
    return stack.database.collections.callEvents.find({ sessionId }).toArray();
  }

  /** The call events the booking's workflow was sent, in the order its history took them. */
  async function signalsReceived(bookingId: string): Promise<CallEventSignal[]> {
    const history = await stack.temporal.workflow.getHandle(bookingWorkflowId(bookingId)).fetchHistory();
    const codec = new EncryptionCodec(stack.config.encryptionKeys);
    const signals: CallEventSignal[] = [];
    for (const event of history.events ?? []) {
      const signalled = event.workflowExecutionSignaledEventAttributes;
      if (signalled?.signalName !== 'callEvent') continue;
      const [payload] = await codec.decode(signalled.input?.payloads ?? []);
      signals.push(defaultPayloadConverter.fromPayload(payload!));
    }
    return signals;
  }

  /**
   * The call events of one session the workflow was sent, once at least `count` show: a signal that comes while a
   * workflow task is running is held by Temporal, and shows in the history only once that task completes.
   */
  const signalsOfSession = (bookingId: string, sessionId: string, count: number) =>
    eventually(
      async () => (await signalsReceived(bookingId)).filter((signal) => signal.sessionId === sessionId),
      (signals) => signals.length >= count,
    );

  const session = (bookingId: string, sessionId = uniqueId('session')) =>
    records
      .recordSession({
        sessionId,
        bookingId,
        virtualNumber: VIRTUAL_NUMBER,
        callerRole: 'rider',
        caller: CALLER,
        startedAt: new Date(),
      })
      .then(() => sessionId);

  const statusOf = (sessionId: string, callStatusName: string, timestamp: string) => {
    const parsed = parseCallStatus(
      callStatus({ sessionId, caller: CALLER, virtualNumber: VIRTUAL_NUMBER, callStatus: callStatusName, timestamp }),
    );
    assert.ok(parsed.ok);
    return parsed.value;
  };

  it('a call status whose caller withheld their number is answered 200 and kept', async () => {
    const sessionId = uniqueId('session');
    const body = callStatus({ sessionId, caller: CALLER, virtualNumber: VIRTUAL_NUMBER, callStatus: 'CALL_RECEIVED' });
    body.payload.source = 'anonymous';
    const answer = await webhook(stack, '/call-status', body);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.received, true);
    const stored = await eventsOfSession(sessionId);
    assert.deepEqual(
      stored.map((event) => event._id),
      [`status:${body.payload.eventId}`],
    );
  });

  it('a booking shows the newest status of a call, whatever order its status events arrive in', async () => {
    const [bookingId] = liveBookings;
    const sessionId = await session(bookingId!);
    const sent = [
      ['CALL_DISCONNECTED', '2026-03-01T10:00:09.000Z'],
      ['CALL_RECEIVED', '2026-03-01T10:00:01.000Z'],
      ['CALL_CONNECTED', '2026-03-01T10:00:04.000Z'],
    ] as const;
    for (const [status, timestamp] of sent) {
      const body = callStatus({
        sessionId,
        caller: CALLER,
        virtualNumber: VIRTUAL_NUMBER,
        callStatus: status,
        timestamp,
      });
      assert.equal((await webhook(stack, '/call-status', body)).status, 200);
    }
    const expected = {
      sessionId,
      callerRole: 'rider',
      startedAt: '2026-03-01T10:00:01.000Z',
      status: 'CALL_DISCONNECTED',
    };
    assert.deepEqual(await callShown(bookingId!, sessionId, expected), expected);
  });

  // A PIN call's or a menu call's legs name no route: its events find their booking by the session alone, and
  // 8x8 sends the first status within milliseconds of our answer, before the session's batch is written.
  it('a status that comes before its session is written reaches the booking, on the server that answered the call or on another', async () => {
    const [bookingId] = liveBookings;
    const unwrittenSession = {
      bookingId: bookingId!,
      virtualNumber: VIRTUAL_NUMBER,
      callerRole: 'rider',
      caller: CALLER,
      startedAt: new Date(),
    } as const;
    const written: number[] = [];
    const batcher = new SessionBatcher(
      {
        recordSessions: async (sessions) => void written.push(sessions.length),
        findSession: (id) => records.findSession(id),
      },
      (error) => assert.fail(String(error)),
      { maxBatch: 100, maxDelayMs: 60_000 },
    );
    const sameServer = new CallEventRecorder(records, routes, clients.up, logger, { sessions: batcher });
    const onSameServer = uniqueId('session');
    await batcher.recordSession({ sessionId: onSameServer, ...unwrittenSession });
    const started = statusOf(onSameServer, 'CALL_CONNECTED', '2026-03-01T10:00:04.000Z');
    assert.equal(await sameServer.recordStatus(started), 'delivered');
    assert.deepEqual(written, [], 'the session is still unwritten when its status is recorded');

    const otherServer = new CallEventRecorder(records, routes, clients.up, logger, { recheckAfterMs: 400 });
    const onOtherServer = uniqueId('session');
    const recording = otherServer.recordStatus(statusOf(onOtherServer, 'CALL_CONNECTED', '2026-03-01T10:00:04.000Z'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await records.recordSession({ sessionId: onOtherServer, ...unwrittenSession });
    assert.equal(await recording, 'delivered');

    const neverRouted = uniqueId('session');
    assert.equal(
      await otherServer.recordStatus(statusOf(neverRouted, 'CALL_CONNECTED', '2026-03-01T10:00:04.000Z')),
      'unmatched',
    );
    for (const sessionId of [onSameServer, onOtherServer]) {
      const expected = {
        sessionId,
        callerRole: 'rider',
        startedAt: '2026-03-01T10:00:04.000Z',
        status: 'CALL_CONNECTED',
      };
      assert.deepEqual(await callShown(bookingId!, sessionId, expected), expected);
    }
  });

  it('an event Temporal refuses for any reason but the booking having ended stays pending, and reaches the booking later', async () => {
    const [bookingId] = liveBookings;
    const transport = { now: 'refusing' as Transport };
    const recorder = server(transport);
    const sessionId = await session(bookingId!);
    assert.equal(
      await recorder.recordStatus(statusOf(sessionId, 'CALL_CONNECTED', '2026-03-01T11:00:00.000Z')),
      'pending',
    );
    await recorder.deliverPending();
    assert.deepEqual(
      (await eventsOfSession(sessionId)).map((event) => event.delivered),
      [false],
    );
    assert.equal(await callOf(bookingId!, sessionId), undefined);

    transport.now = 'up';
    await catchUp(recorder, pendingOfSessions([sessionId]));
    const expected = {
      sessionId,
      callerRole: 'rider',
      startedAt: '2026-03-01T11:00:00.000Z',
      status: 'CALL_CONNECTED',
    };
    assert.deepEqual(await callShown(bookingId!, sessionId, expected), expected);
  });

  it('an event for a booking that has ended is kept and counts as delivered', async () => {
    const recorder = server({ now: 'up' });
    const sessionId = await session(endedBooking);
    const outcome = await recorder.recordStatus(statusOf(sessionId, 'CALL_CONNECTED', '2026-03-01T11:30:00.000Z'));
    assert.equal(outcome, 'booking_ended');
    assert.deepEqual(
      (await eventsOfSession(sessionId)).map((event) => event.delivered),
      [true],
    );
  });

  it('an event that can never be delivered holds back no other booking’s events', async () => {
    const transport = { now: 'up' as Transport };
    const recorder = server(transport);
    // Temporal refuses a signal over its payload limit (2 MB): this one can never be delivered.
    const stuck = await session(stuckBooking);
    const oversized = {
      ...statusOf(stuck, 'CALL_CONNECTED', '2026-03-01T12:00:00.000Z'),
      callStatus: 'X'.repeat(2_200_000),
    };
    try {
      assert.equal(await recorder.recordStatus(oversized), 'pending');
      transport.now = 'down';
      const later = await Promise.all(
        liveBookings.map(async (bookingId) => {
          const sessionId = await session(bookingId);
          const status = statusOf(sessionId, 'CALL_CONNECTED', '2026-03-01T12:00:01.000Z');
          assert.equal(await recorder.recordStatus(status), 'pending');
          return { bookingId, sessionId };
        }),
      );

      transport.now = 'up';
      await recorder.deliverPending();
      await catchUp(recorder, pendingOfSessions(later.map(({ sessionId }) => sessionId)));
      for (const { bookingId, sessionId } of later) {
        const expected = {
          sessionId,
          callerRole: 'rider',
          startedAt: '2026-03-01T12:00:01.000Z',
          status: 'CALL_CONNECTED',
        };
        assert.deepEqual(await callShown(bookingId, sessionId, expected), expected, bookingId);
      }
      assert.deepEqual(
        (await eventsOfSession(stuck)).map((event) => event.delivered),
        [false],
        'the undeliverable event is still kept, to be tried again',
      );
    } finally {
      await stack.database.collections.callEvents.deleteMany({ sessionId: stuck });
    }
  });

  it('two redeliveries at once send each event once, in the order received', async () => {
    const [bookingId] = liveBookings;
    const transport = { now: 'down' as Transport };
    const recorder = server(transport);
    const sessionId = await session(bookingId!);
    const statuses = ['CALL_RECEIVED', 'RINGING', 'CALL_CONNECTED', 'CALL_DISCONNECTED'];
    for (const [i, status] of statuses.entries()) {
      assert.equal(await recorder.recordStatus(statusOf(sessionId, status, `2026-03-01T13:00:0${i}.000Z`)), 'pending');
    }
    transport.now = 'up';
    await Promise.all([recorder.deliverPending(), recorder.deliverPending(), recorder.deliverPending()]);
    await catchUp(recorder, pendingOfSessions([sessionId]));
    const received = await signalsOfSession(bookingId!, sessionId, statuses.length);
    assert.deepEqual(
      received.map((signal) => signal.status),
      statuses,
      lastWarnings(),
    );
  });

  it('a new event for a booking whose earlier events are still pending waits behind them', async () => {
    const [bookingId] = liveBookings;
    const transport = { now: 'down' as Transport };
    const recorder = server(transport);
    const sessionId = await session(bookingId!);
    assert.equal(
      await recorder.recordStatus(statusOf(sessionId, 'CALL_RECEIVED', '2026-03-01T14:00:00.000Z')),
      'pending',
    );
    assert.equal(
      await recorder.recordStatus(statusOf(sessionId, 'CALL_CONNECTED', '2026-03-01T14:00:01.000Z')),
      'pending',
    );
    transport.now = 'up';
    assert.equal(
      await recorder.recordStatus(statusOf(sessionId, 'CALL_DISCONNECTED', '2026-03-01T14:00:02.000Z')),
      'pending',
    );
    await catchUp(recorder, pendingOfSessions([sessionId]));
    const received = await signalsOfSession(bookingId!, sessionId, 3);
    assert.deepEqual(
      received.map((signal) => signal.status),
      ['CALL_RECEIVED', 'CALL_CONNECTED', 'CALL_DISCONNECTED'],
      lastWarnings(),
    );
  });

  // The class: any interleaving of status events and summaries (some with the caller withheld), sent once or
  // twice, to two HTTP servers, while Temporal comes and goes or refuses calls, with redeliveries overlapping.
  it('whatever the order, the outages and the redeliveries, every event answered 2xx is kept and each booking shows what its events say', async () => {
    const sessionCount = 3;
    const receipt = fc.record({
      server: fc.constantFrom(0, 1),
      booking: fc.constantFrom(0, 1, 2, 3), // two live bookings, one that has ended, one that cannot be reached
      session: fc.integer({ min: 0, max: sessionCount - 1 }),
      summary: fc.boolean(),
      status: fc.constantFrom('CALL_RECEIVED', 'RINGING', 'CALL_CONNECTED', 'CALL_DISCONNECTED'),
      second: fc.integer({ min: 0, max: 59 }),
      withheld: fc.boolean(),
      twice: fc.boolean(),
    });
    type Receipt = typeof receipt extends fc.Arbitrary<infer T> ? T : never;
    const step = fc.oneof(
      { weight: 5, arbitrary: receipt.map((event) => ({ kind: 'receive' as const, events: [event] })) },
      {
        weight: 2,
        arbitrary: fc
          .array(receipt, { minLength: 2, maxLength: 4 })
          .map((events) => ({ kind: 'receive' as const, events })),
      },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom<Transport>('up', 'down', 'refusing')
          .map((now) => ({ kind: 'temporal' as const, now })),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({ server: fc.constantFrom(0, 1), overlapping: fc.boolean() })
          .map((r) => ({ kind: 'redeliver' as const, ...r })),
      },
    );

    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const run = uniqueId('run');
        const transport = { now: 'up' as Transport };
        const servers = [server(transport), server(transport)];
        const bookings = [...liveBookings, endedBooking, UNREACHABLE_BOOKING];
        const sessionIds = bookings.map((_, b) =>
          Array.from({ length: sessionCount }, (_unused, s) => `${run}-b${b}-s${s}`),
        );
        for (const [b, bookingId] of bookings.entries()) for (const id of sessionIds[b]!) await session(bookingId, id);
        // One summary per session, as 8x8 sends it (a repeat is the same body).
        const summaries = sessionIds.map((ids) =>
          ids.map((sessionId, s) => {
            const body = sessionSummary({
              sessionId,
              caller: CALLER,
              virtualNumber: VIRTUAL_NUMBER,
              callee: CALLEE,
              sessionStatus: ['COMPLETED', 'NO_ANSWER', 'BUSY'][s]!,
              durationSeconds: 10 + s,
            });
            return body;
          }),
        );
        const acknowledged: { booking: number; session: number; id: string; status?: string; at?: string }[] = [];

        const receive = async (event: Receipt, index: number) => {
          const sessionId = sessionIds[event.booking]![event.session]!;
          const recorder = servers[event.server]!;
          if (event.summary) {
            const body = summaries[event.booking]![event.session]!;
            if (event.withheld) body.payload.details.callA.source = 'anonymous';
            for (let i = 0; i < (event.twice ? 2 : 1); i++) {
              const parsed = parseSessionSummary(body);
              assert.ok(parsed.ok, `8x8's summary was refused: ${parsed.ok ? '' : parsed.error.message}`);
              await recorder.recordSummary(parsed.value);
            }
            acknowledged.push({ booking: event.booking, session: event.session, id: `summary:${sessionId}` });
            return;
          }
          // Distinct times, so that "newest" is defined; the order they are received in is the generated one.
          const at = new Date(Date.UTC(2026, 2, 1, 15, 0, event.second, index)).toISOString();
          const body = callStatus({
            sessionId,
            caller: CALLER,
            virtualNumber: VIRTUAL_NUMBER,
            callStatus: event.status,
            timestamp: at,
          });
          if (event.withheld) body.payload.source = 'anonymous';
          for (let i = 0; i < (event.twice ? 2 : 1); i++) {
            const parsed = parseCallStatus(body);
            assert.ok(parsed.ok, `8x8's call status was refused: ${parsed.ok ? '' : parsed.error.message}`);
            await recorder.recordStatus(parsed.value);
          }
          acknowledged.push({
            booking: event.booking,
            session: event.session,
            id: `status:${body.payload.eventId}`,
            status: event.status,
            at,
          });
        };

        let index = 0;
        for (const current of steps) {
          if (current.kind === 'temporal') transport.now = current.now;
          else if (current.kind === 'redeliver') {
            const recorder = servers[current.server]!;
            await (current.overlapping
              ? Promise.all([recorder.deliverPending(), recorder.deliverPending()])
              : recorder.deliverPending());
          } else {
            await Promise.all(current.events.map((event) => receive(event, index++)));
          }
        }

        // Temporal is back for good: the servers' redeliveries catch up.
        transport.now = 'up';
        const reachable = sessionIds.slice(0, 3).flat();
        for (const recorder of servers) await catchUp(recorder, pendingOfSessions(reachable));

        const stored = await stack.database.collections.callEvents
          .find({ sessionId: { $regex: `^${run}-` } })
          .toArray();
        const storedById = new Map(stored.map((event) => [event._id, event]));
        for (const event of acknowledged) {
          const kept = storedById.get(event.id);
          assert.ok(kept, `acknowledged event ${event.id} was lost`);
          assert.equal(kept.delivered, event.booking !== 3, `${event.id} delivered`);
        }
        for (const [b, bookingId] of liveBookings.entries()) {
          for (const [s, sessionId] of sessionIds[b]!.entries()) {
            const events = acknowledged.filter((event) => event.booking === b && event.session === s);
            const summary = events.some((event) => event.id.startsWith('summary:')) ? summaries[b]![s]! : null;
            const statuses = events.filter((event) => event.at).sort((x, y) => x.at!.localeCompare(y.at!));
            const expected =
              events.length === 0
                ? undefined
                : summary
                  ? {
                      sessionId,
                      callerRole: 'rider',
                      startedAt: summary.payload.startTime,
                      status: summary.payload.sessionStatus,
                      endedAt: summary.payload.endTime,
                      durationSeconds: 10 + s,
                    }
                  : { sessionId, callerRole: 'rider', startedAt: statuses[0]!.at, status: statuses.at(-1)!.status };
            const call =
              expected === undefined
                ? await callOf(bookingId, sessionId)
                : await callShown(bookingId, sessionId, expected);
            assert.deepEqual(call, expected, `booking ${b} session ${s}`);
          }
        }
        await stack.database.collections.callEvents.deleteMany({ bookingId: UNREACHABLE_BOOKING });
      }),
      { numRuns: Number(process.env.MASKLINE_EVENT_RUNS ?? 20) },
    );
  });
});
