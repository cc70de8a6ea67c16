import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBookingActivities } from '../activities/booking';
import { bookingWorkflowId } from '../src/bookings/contract';
import { BookingEraser } from '../src/bookings/erasure';
import { reconcilePairings } from '../src/bookings/reconciliation';
import { CallRecords } from '../src/store/callRecords';
import { PinCalls } from '../src/calls/pinCalls';
import { PIN_ATTEMPTS_PER_CALLER, PIN_DIGITS, PIN_TRIES_PER_CALL, pinActionId } from '../src/domain/pin';
import type { CallActionEvent } from '../src/eightbyeight';
import { callReceived, digitsEntered } from '../src/eightbyeight/simulatedWebhooks';
import { NO_BOOKING_EVENTS, parseBookingRequest } from '../src/http/requests';
import { createLogger } from '../src/logging/logger';
import { MongoAllocationStore } from '../src/store/allocationStore';
import { Holdings } from '../src/store/holdings';
import { PinHoldings } from '../src/store/pinHoldings';
import { validateCallActionAnswer } from '../harness/eightbyeightSchemas';
import { api, CapturedLogs, eventually, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

// PIN fallback: a booking that opted in and finds no number free for both parties shares a number of the PIN
// set, and its callers enter its PIN. Through the HTTP API and 8x8-shaped webhooks, against real Temporal and the
// real store; every callflow is one 8x8's schemas accept.

const DIRECT_VN = '+6560008001';
const PIN_VN = '+6560008101';

interface Callflow {
  clientActionId?: string;
  callflow: { action: string; params?: Record<string, unknown> }[];
}

function valid(body: unknown): Callflow {
  assert.deepEqual(validateCallActionAnswer(body).errors, [], JSON.stringify(body));
  return body as Callflow;
}

const actions = (answer: Callflow) => answer.callflow.map((action) => action.action);
const connectsTo = (destination: string, source = PIN_VN) => [{ action: 'makeCall', params: { source, destination } }];

let serial = 0;
function person(prefix: '9' | '8'): string {
  serial += 1;
  return `${prefix === '9' ? '+659123' : '+659876'}${String(serial).padStart(4, '0')}`;
}

describe('PIN fallback when no number is free', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: DIRECT_VN })).status, 201);
    const pinNumber = await api(stack, 'POST', '/v1/numbers', { number: PIN_VN, use: 'pin' });
    assert.equal(pinNumber.status, 201, JSON.stringify(pinNumber.body));
    assert.equal(pinNumber.body.use, 'pin');
  });
  after(async () => {
    await stack?.stop();
  });

  async function book(parties: [string, string], extra: Record<string, unknown> = {}) {
    const bookingId = uniqueId('pin');
    const answer = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'customer', number: parties[0] },
        { role: 'courier', number: parties[1] },
      ],
      ...extra,
    });
    return { bookingId, answer };
  }

  /**
   * A PIN booking of (customer, courier): the customer holds the pool's one ordinary number in a booking of
   * theirs with someone else, so no number is free for this pair.
   */
  async function pinBooking(extra: Record<string, unknown> = {}) {
    const customer = person('9');
    const courier = person('8');
    const direct = await book([customer, person('8')]);
    assert.equal(direct.answer.status, 201, JSON.stringify(direct.answer.body));
    assert.equal(direct.answer.body.virtualNumber, DIRECT_VN);
    assert.equal(direct.answer.body.mode, undefined, 'a booking with a number of its own has no mode');
    const pin = await book([customer, courier], { fallback: 'pin', ...extra });
    assert.equal(pin.answer.status, 201, JSON.stringify(pin.answer.body));
    return {
      bookingId: pin.bookingId,
      directBookingId: direct.bookingId,
      customer,
      courier,
      booking: pin.answer.body as { virtualNumber: string; mode?: string; pin?: string },
    };
  }

  async function call(caller: string, sessionId = uniqueId('session')) {
    const answer = await webhook(stack, '/call-action', callReceived(caller, PIN_VN, sessionId));
    assert.equal(answer.status, 200);
    return valid(answer.body);
  }

  async function enter(
    caller: string,
    sessionId: string,
    previous: Callflow,
    digits: string | null,
    eventData: 'object' | 'string' = 'object',
  ) {
    assert.ok(previous.clientActionId, `the previous answer asked for digits: ${JSON.stringify(previous)}`);
    const body = digitsEntered(caller, PIN_VN, {
      sessionId,
      clientActionId: previous.clientActionId,
      digits,
      eventData,
    });
    const answer = await webhook(stack, '/call-action', body);
    assert.equal(answer.status, 200);
    return valid(answer.body);
  }

  const otherPin = (pin: string) => String((Number(pin) + 1) % 10 ** PIN_DIGITS).padStart(PIN_DIGITS, '0');

  it('a PIN booking made when the pool is exhausted for that pair connects with the right PIN and not with a wrong one', async () => {
    const { bookingId, customer, courier, booking } = await pinBooking();
    assert.equal(booking.virtualNumber, PIN_VN);
    assert.equal(booking.mode, 'pin');
    assert.match(booking.pin ?? '', new RegExp(`^[0-9]{${PIN_DIGITS}}$`));
    const view = await api(stack, 'GET', `/v1/bookings/${bookingId}`);
    assert.equal(view.body.mode, 'pin');
    assert.equal(view.body.pin, booking.pin);
    const active = await eventually(
      async () => {
        const events = await api(stack, 'GET', `/v1/bookings/${bookingId}/events`);
        return (events.body?.events ?? []) as { event: { type: string; data: Record<string, unknown> } }[];
      },
      (events) => events.some((record) => record.event.type === 'booking.active'),
    );
    const activeData = active.find((record) => record.event.type === 'booking.active')!.event.data;
    assert.equal(activeData.mode, 'pin');
    assert.equal(activeData.pin, booking.pin);

    const sessionId = uniqueId('session');
    const asked = await call(courier, sessionId);
    assert.deepEqual(actions(asked), ['sayAndCapture']);
    assert.equal(asked.clientActionId, pinActionId(1));
    const wrong = await enter(courier, sessionId, asked, otherPin(booking.pin!));
    assert.deepEqual(actions(wrong), ['sayAndCapture'], 'a wrong PIN is asked again, not put through');
    assert.equal(wrong.clientActionId, pinActionId(2));
    const right = await enter(courier, sessionId, wrong, booking.pin!);
    assert.deepEqual(right.callflow, connectsTo(customer));

    // The call is the booking's, as a direct one is.
    await eventually(
      () => stack.database.collections.callSessions.findOne({ _id: sessionId }),
      (session) => session?.bookingId === bookingId && session.callerRole === 'courier',
    );
    const fromCustomer = uniqueId('session');
    assert.deepEqual(
      (await enter(customer, fromCustomer, await call(customer, fromCustomer), booking.pin!)).callflow,
      connectsTo(courier),
    );
  });

  it('a caller who is not a party of the PIN booking is not connected, even with its PIN', async () => {
    const { booking } = await pinBooking();
    const stranger = person('9');
    const sessionId = uniqueId('session');
    let answer = await call(stranger, sessionId);
    for (let attempt = 1; attempt <= PIN_TRIES_PER_CALL; attempt++) {
      answer = await enter(stranger, sessionId, answer, booking.pin!);
      assert.ok(!actions(answer).includes('makeCall'), JSON.stringify(answer));
    }
    assert.deepEqual(actions(answer), ['say', 'hangup']);
  });

  it('reads the PIN when 8x8 sends eventData as a bare string', async () => {
    const { customer, courier, booking } = await pinBooking();
    const sessionId = uniqueId('session');
    const answer = await enter(courier, sessionId, await call(courier, sessionId), booking.pin!, 'string');
    assert.deepEqual(answer.callflow, connectsTo(customer));
  });

  it('ends with the notice after too many wrong or missing PINs on a call, and bounds a caller over calls', async () => {
    const { courier, booking } = await pinBooking();
    const wrongPin = otherPin(booking.pin!);
    // On one call: a missing PIN is a try too; the last try ends with the notice.
    const sessionId = uniqueId('session');
    let answer = await enter(courier, sessionId, await call(courier, sessionId), null);
    assert.deepEqual(actions(answer), ['sayAndCapture']);
    for (let attempt = 2; attempt <= PIN_TRIES_PER_CALL; attempt++)
      answer = await enter(courier, sessionId, answer, wrongPin);
    assert.deepEqual(actions(answer), ['say', 'hangup']);

    // Over calls: past the caller's bound, even the right PIN hears the notice.
    let wrongSoFar = PIN_TRIES_PER_CALL - 1;
    while (wrongSoFar < PIN_ATTEMPTS_PER_CALLER) {
      const next = uniqueId('session');
      answer = await call(courier, next);
      for (let attempt = 1; attempt <= PIN_TRIES_PER_CALL && wrongSoFar < PIN_ATTEMPTS_PER_CALLER; attempt++) {
        answer = await enter(courier, next, answer, wrongPin);
        wrongSoFar += 1;
      }
    }
    const last = uniqueId('session');
    const bounded = await enter(courier, last, await call(courier, last), booking.pin!);
    assert.deepEqual(actions(bounded), ['say', 'hangup']);

    // What the bound stored names the caller by an HMAC under the deployment's key, not by a hash anyone can redo.
    const attempts = await stack.database.collections.pinAttempts.find({}).toArray();
    assert.ok(attempts.length >= PIN_ATTEMPTS_PER_CALLER);
    const unkeyed = createHash('sha256').update(`maskline-pin-caller-v1\u0000${courier}`).digest('base64url');
    for (const attempt of attempts) {
      assert.match(attempt.bucket, /^test-key-1:/);
      assert.ok(!attempt.bucket.includes(unkeyed) && !JSON.stringify(attempt).includes(courier.slice(1)));
    }
  });

  it('gives every live booking on a PIN number its own PIN, however many are made at once', async () => {
    const customer = person('9');
    assert.equal((await book([customer, person('8')])).answer.status, 201);
    const made = await Promise.all(
      Array.from({ length: 12 }, () => book([customer, person('8')], { fallback: 'pin' })),
    );
    for (const { answer } of made) assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const pins = made.map(({ answer }) => answer.body.pin as string);
    assert.equal(new Set(pins).size, pins.length, `PINs ${pins.join(', ')}`);
    await Promise.all(made.map(({ bookingId }) => api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`)));
  });

  it('the store keeps PINs unique on a number under concurrent takes, whatever PINs are drawn', async () => {
    const pins = stack.database.collections.pins;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 14 }),
        fc.integer({ min: 0, max: 1_000 }),
        async (space, takers, seed) => {
          // Draws from a tiny space, so that concurrent takes meet on the same PIN.
          let state = seed;
          const holdings = new PinHoldings(stack.database.collections, (max) => {
            state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
            return (state % space) % max;
          });
          const request = parseBookingRequest({
            bookingId: uniqueId('prop'),
            parties: [
              { role: 'customer', number: person('9') },
              { role: 'courier', number: person('8') },
            ],
          });
          const holders = Array.from({ length: takers }, (_, i) => ({
            bookingId: `${request.bookingId}-${i}`,
            run: 'run',
            runStartedAt: Date.now(),
          }));
          const taken = await Promise.all(holders.map((holder) => holdings.take(request, holder)));
          const got = taken.filter((holding) => holding !== null).map((holding) => holding.pin);
          try {
            assert.equal(new Set(got).size, got.length, `duplicate PINs ${got.join(', ')}`);
            assert.ok(got.length <= space);
            const stored = await pins.countDocuments({
              virtualNumber: PIN_VN,
              bookingId: { $regex: `^${request.bookingId}-` },
            });
            assert.equal(stored, got.length);
          } finally {
            await Promise.all(holders.map((holder) => holdings.giveBack(holder)));
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('frees the PIN when the booking ends: cancelled, or completed after its grace period', async () => {
    for (const end of ['cancel', 'complete'] as const) {
      const { bookingId, courier, booking } = await pinBooking({ gracePeriodSeconds: 0 });
      assert.ok(await stack.database.collections.pins.findOne({ bookingId }));
      assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/${end}`)).status, 202);
      await stack.temporal.workflow
        .getHandle(bookingWorkflowId(bookingId))
        .result()
        .catch(() => undefined);
      assert.equal(await stack.database.collections.pins.findOne({ bookingId }), null, `after ${end}`);
      const sessionId = uniqueId('session');
      const answer = await enter(courier, sessionId, await call(courier, sessionId), booking.pin!);
      assert.ok(!actions(answer).includes('makeCall'), `a PIN of a booking that ended (${end}) connects no one`);
    }
  });

  it('gives back the PIN of a booking whose workflow is gone, as reconciliation does any orphan', async () => {
    const { bookingId } = await pinBooking();
    await stack.temporal.workflow.getHandle(bookingWorkflowId(bookingId)).terminate('lost, as a crash may lose it');
    const { collections } = stack.database;
    const report = await reconcilePairings(
      {
        holdings: new Holdings(collections),
        allocations: new MongoAllocationStore(collections),
        temporal: stack.temporal,
        log: { info: () => {} },
      },
      { taskQueue: stack.config.temporalTaskQueue },
    );
    assert.ok(report.released.includes(bookingId));
    assert.equal(await collections.pins.findOne({ bookingId }), null);
  });

  it('a retried allocation attempt keeps the PIN an interrupted one took, and one after the release takes none', async () => {
    const customer = person('9');
    assert.equal((await book([customer, person('8')])).answer.status, 201);
    const request = parseBookingRequest({
      bookingId: uniqueId('retried'),
      parties: [
        { role: 'customer', number: customer },
        { role: 'courier', number: person('8') },
      ],
      fallback: 'pin',
    });
    const holder = { bookingId: request.bookingId, run: uniqueId('run'), runStartedAt: Date.now() };
    const { collections } = stack.database;
    const pins = new PinHoldings(collections);
    const activities = createBookingActivities({ allocations: new MongoAllocationStore(collections), pins });
    // An attempt that took its PIN and died before it recorded anything more.
    const interrupted = await pins.take(request, holder);
    assert.ok(interrupted);
    // Its workflow gone too, erasure would find nothing running: the PIN, which names the parties, still holds it back.
    const eraser = new BookingEraser(
      { runs: async () => [], deleteRuns: async () => {} },
      new CallRecords(collections),
      new MongoAllocationStore(collections),
    );
    await assert.rejects(eraser.erase(request.bookingId), /still holds its virtual number/);
    const attempt = new MockActivityEnvironment({ isLocal: true, startToCloseTimeoutMs: 10_000 });
    for (let retry = 0; retry < 2; retry++) {
      const result = await attempt.run(activities.allocateVirtualNumber, request, holder);
      assert.deepEqual(result, { outcome: 'allocated', virtualNumber: PIN_VN, pin: interrupted.pin });
    }
    assert.equal(await collections.pins.countDocuments({ bookingId: request.bookingId }), 1);
    assert.equal((await collections.leases.findOne({ _id: request.bookingId }))?.virtualNumber, PIN_VN);

    await attempt.run(activities.releaseVirtualNumber, holder);
    assert.equal(await collections.pins.countDocuments({ bookingId: request.bookingId }), 0);
    await assert.rejects(attempt.run(activities.allocateVirtualNumber, request, holder), /released its number/);
    assert.equal(
      await collections.pins.countDocuments({ bookingId: request.bookingId }),
      0,
      'a late attempt takes none',
    );
  });

  it('without the opt-in, a booking for which no number is free is still refused no_number_available', async () => {
    const customer = person('9');
    assert.equal((await book([customer, person('8')])).answer.status, 201);
    const refused = await book([customer, person('8')]);
    assert.equal(refused.answer.status, 409);
    assert.equal(refused.answer.body.error.code, 'no_number_available');
    const none = await book([customer, person('8')], { fallback: 'none' });
    assert.equal(none.answer.body.error.code, 'no_number_available');
  });
});

describe('PIN fallback settings and failures', () => {
  it("takes the deployment's MASKLINE_NUMBER_FALLBACK unless the booking names its own", () => {
    const body = {
      bookingId: 'b-1',
      parties: [
        { role: 'customer', number: '+6591234567' },
        { role: 'courier', number: '+6598765432' },
      ],
    };
    const pinDeployment = { ...NO_BOOKING_EVENTS, numberFallback: 'pin' as const };
    assert.equal(parseBookingRequest(body).fallback, undefined);
    assert.equal(parseBookingRequest({ ...body, fallback: 'pin' }).fallback, 'pin');
    assert.equal(parseBookingRequest(body, pinDeployment).fallback, 'pin');
    assert.equal(parseBookingRequest({ ...body, fallback: 'none' }, pinDeployment).fallback, undefined);
  });

  it('answers a PIN call with a valid callflow (the notice) when the store fails or is too slow', async () => {
    const failing = new Error('store down');
    const never = new Promise<never>(() => {});
    for (const store of [
      { isPinNumber: () => Promise.reject(failing), route: () => Promise.reject(failing) },
      { isPinNumber: () => never, route: () => never },
    ]) {
      const calls = new PinCalls(
        { ...store, wrongAttempts: () => Promise.reject(failing), recordWrongAttempt: () => Promise.reject(failing) },
        { voiceProfile: 'en-US-Neural2-C', notice: 'This number is not in service.', storeTimeoutMs: 50 },
        createLogger({ level: 'silent', destination: new CapturedLogs() }),
      );
      const event: CallActionEvent = {
        callId: 'c',
        sessionId: 's',
        callStatus: 'ACTION_COMPLETED',
        source: '+6591234567',
        destination: PIN_VN,
        clientActionId: pinActionId(1),
        dtmf: '1234',
      };
      assert.equal(await calls.asksForPin({ ...event, callStatus: 'CALL_RECEIVED' }), false);
      const outcome = await calls.followUp(event);
      assert.ok('answer' in outcome);
      assert.deepEqual(actions(valid(outcome.answer)), ['say', 'hangup']);
      assert.deepEqual(actions(valid(calls.ask(2))), ['sayAndCapture']);
    }
  });
});
