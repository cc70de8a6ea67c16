import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { callRecords, recordCallEvent, type CallEvent, type CallHistory } from '../src/domain/callHistory';

// The booking's merge of 8x8's call events, alone: what a booking shows must depend on which events it has been
// told of, never on their order or on repeats (8x8 sends at least once, in no order; we may pass events on late).

const at = (second: number) => new Date(Date.UTC(2026, 2, 1, 9, 0, second)).toISOString();

const status = (sessionId: string, callStatus: string, second: number, extra: Partial<CallEvent> = {}): CallEvent => ({
  sessionId,
  callerRole: 'rider',
  kind: 'status',
  at: at(second),
  status: callStatus,
  eventId: `status:${sessionId}-${callStatus}-${second}`,
  receivedAt: at(100 + second),
  ...extra,
});

const summary = (sessionId: string, outcome: string, extra: Partial<CallEvent> = {}): CallEvent => ({
  sessionId,
  callerRole: 'rider',
  kind: 'summary',
  at: at(40),
  status: outcome,
  startedAt: at(2),
  endedAt: at(40),
  durationSeconds: 38,
  eventId: `summary:${sessionId}`,
  receivedAt: at(150),
  ...extra,
});

function historyOf(events: readonly CallEvent[]) {
  const history: CallHistory = new Map();
  for (const event of events) recordCallEvent(history, event);
  return callRecords(history);
}

describe('a booking’s call history, merged from call events', () => {
  it('a call shows the status of its newest status event, whatever order they come in', () => {
    const events = [
      status('s-1', 'CALL_RECEIVED', 1),
      status('s-1', 'RINGING', 2),
      status('s-1', 'CALL_CONNECTED', 5),
      status('s-1', 'CALL_DISCONNECTED', 30),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(events, { minLength: 1 }), (arrived) => {
        const newest = arrived.reduce((a, b) => (a.at > b.at ? a : b));
        const oldest = arrived.reduce((a, b) => (a.at < b.at ? a : b));
        assert.deepEqual(historyOf(arrived), [
          { sessionId: 's-1', callerRole: 'rider', startedAt: oldest.at, status: newest.status },
        ]);
      }),
    );
  });

  it('the summary’s outcome, start, end and duration are final: no status event changes them, before or after', () => {
    const events = [
      status('s-1', 'CALL_CONNECTED', 5),
      summary('s-1', 'COMPLETED'),
      status('s-1', 'CALL_DISCONNECTED', 50),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(events, { minLength: 3, maxLength: 3 }), (arrived) => {
        assert.deepEqual(historyOf(arrived), [
          {
            sessionId: 's-1',
            callerRole: 'rider',
            startedAt: at(2),
            status: 'COMPLETED',
            endedAt: at(40),
            durationSeconds: 38,
          },
        ]);
      }),
    );
  });

  it('of two status events 8x8 stamped with the same time, the one received later wins', () => {
    const first = status('s-1', 'RINGING', 5, { receivedAt: at(110) });
    const second = status('s-1', 'CALL_CONNECTED', 5, { receivedAt: at(111) });
    assert.equal(historyOf([first, second])[0]?.status, 'CALL_CONNECTED');
    assert.equal(historyOf([second, first])[0]?.status, 'CALL_CONNECTED');
  });

  it('a status event without a readable timestamp is placed by when it was received', () => {
    const unreadable = status('s-1', 'CALL_DISCONNECTED', 0, { at: 'yesterday', receivedAt: at(30) });
    const stamped = status('s-1', 'CALL_CONNECTED', 20);
    assert.equal(historyOf([unreadable, stamped])[0]?.status, 'CALL_DISCONNECTED');
    assert.equal(historyOf([stamped, unreadable])[0]?.status, 'CALL_DISCONNECTED');
  });

  it('events sent before they carried an event id or a receipt time are still merged by 8x8’s time', () => {
    const legacy = (event: CallEvent): CallEvent => {
      const { eventId: _id, receivedAt: _received, ...rest } = event;
      return rest;
    };
    assert.deepEqual(historyOf([legacy(status('s-1', 'CALL_CONNECTED', 9)), legacy(status('s-1', 'RINGING', 3))]), [
      { sessionId: 's-1', callerRole: 'rider', startedAt: at(3), status: 'CALL_CONNECTED' },
    ]);
  });

  it('the caller’s role is kept when a later event does not know it', () => {
    const events = [status('s-1', 'CALL_CONNECTED', 5), status('s-1', 'CALL_DISCONNECTED', 9, { callerRole: null })];
    assert.equal(historyOf(events)[0]?.callerRole, 'rider');
    assert.equal(historyOf([...events].reverse())[0]?.callerRole, 'rider');
  });

  it('calls are listed by when they started', () => {
    const calls = historyOf([status('late', 'CALL_CONNECTED', 20), status('early', 'CALL_CONNECTED', 3)]);
    assert.deepEqual(
      calls.map((call) => call.sessionId),
      ['early', 'late'],
    );
  });

  // The class: any events at all, with times that tie, that cannot be read or are missing, repeated any number
  // of times and arriving in any order, give one and the same history.
  it('whatever events come, in whatever order and however often, the history is the same', () => {
    const text = (values: string[]) => fc.constantFrom(...values);
    const time = fc.oneof(
      fc.integer({ min: 0, max: 5 }).map(at),
      text(['', 'not a time', '2026-03-01T09:00:03Z', '2026-03-01T09:00:03.000Z']),
    );
    const event: fc.Arbitrary<CallEvent> = fc.record(
      {
        sessionId: text(['s-1', 's-2']),
        callerRole: fc.constantFrom('rider', 'driver', null),
        kind: fc.constantFrom('status' as const, 'summary' as const),
        at: time,
        status: text(['CALL_RECEIVED', 'CALL_CONNECTED', 'COMPLETED', 'NO_ANSWER']),
        startedAt: time,
        endedAt: time,
        durationSeconds: fc.integer({ min: 0, max: 3 }),
        eventId: text(['e-1', 'e-2', 'e-3']),
        receivedAt: time,
      },
      { requiredKeys: ['sessionId', 'callerRole', 'kind', 'at', 'status'] },
    );
    fc.assert(
      fc.property(
        fc
          .array(event, { minLength: 1, maxLength: 8 })
          .chain((events) =>
            fc.tuple(
              fc.constant(events),
              fc.shuffledSubarray([...events, ...events], { minLength: events.length * 2 }),
            ),
          ),
        ([events, repeatedInAnotherOrder]) => {
          assert.deepEqual(historyOf(repeatedInAnotherOrder), historyOf(events));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
