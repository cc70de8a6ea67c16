import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { callReceived, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { EventReceiver, type ReceivedBookingEvent } from '../harness/eventReceiver';
import { api, eventually, startStack, uniqueId, webhook, type Stack } from '../harness/stack';
import { parseBookingRequest } from '../src/http/requests';
import { HttpError } from '../src/http/errors';

// The booking platform's side of events: a real HTTP receiver on loopback, the real worker, Temporal and store.

const NEW_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OLD_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const VIRTUAL_NUMBER = '+6560000001';

let partyCounter = 0;
/** Two parties no other booking of this file has. */
function parties() {
  partyCounter += 1;
  const stem = String(6591000000 + partyCounter * 2);
  return [
    { role: 'rider', number: `+${stem}` },
    { role: 'driver', number: `+${Number(stem) + 1}` },
  ];
}

function ofBooking(events: ReceivedBookingEvent[], bookingId: string) {
  return events.filter((event) => event.bookingId === bookingId);
}

/** The booking's events as the receiver saw them first, deduplicated by id (as a receiver does). */
function firstArrivals(receiver: EventReceiver, bookingId: string): ReceivedBookingEvent[] {
  const seen = new Set<string>();
  return ofBooking(receiver.accepted(), bookingId).filter((event) => !seen.has(event.id) && seen.add(event.id));
}

function typesOf(receiver: EventReceiver, bookingId: string): string[] {
  return firstArrivals(receiver, bookingId).map((event) => event.type);
}

async function eventuallyReceived(receiver: EventReceiver, bookingId: string, types: string[], timeoutMs = 30_000) {
  await eventually(
    async () => typesOf(receiver, bookingId),
    (received) => received.length >= types.length,
    timeoutMs,
  );
  assert.deepEqual(typesOf(receiver, bookingId), types, `the events of ${bookingId}, in order`);
}

/** Nothing was sent twice under different ids: each (booking, type, call) has one id. */
function assertOneIdPerEvent(receiver: EventReceiver) {
  const ids = new Map<string, Set<string>>();
  for (const event of receiver.accepted()) {
    const key = JSON.stringify([event.bookingId, event.type, event.data.sessionId ?? null]);
    ids.set(key, (ids.get(key) ?? new Set()).add(event.id));
  }
  for (const [key, set] of ids) assert.equal(set.size, 1, `${key} arrived under ${set.size} ids`);
}

describe('booking events, delivered to the platform', { timeout: 240_000 }, () => {
  let stack: Stack;
  let receiver: EventReceiver;

  before(async () => {
    receiver = await EventReceiver.start();
    stack = await startStack({
      env: { MASKLINE_EVENTS_URL: receiver.url, MASKLINE_EVENTS_SECRETS: `${NEW_SECRET},${OLD_SECRET}` },
    });
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: VIRTUAL_NUMBER })).status, 201);
  });
  after(async () => {
    await stack.stop();
    await receiver.down();
  });

  const book = async (extra: Record<string, unknown> = {}, who = parties()) => {
    const bookingId = uniqueId('ev');
    const created = await api(stack, 'POST', '/v1/bookings', { bookingId, parties: who, ...extra });
    return { bookingId, created, who };
  };

  it('every event type arrives signed in the Standard Webhooks format, with either secret of a rotation', async () => {
    const completed = await book({ gracePeriodSeconds: 1 });
    assert.equal(completed.created.status, 201, JSON.stringify(completed.created.body));
    const [rider, driver] = completed.who;
    // The rider already holds the pool's only number in a live booking: a second one is refused.
    const refused = await book({}, [rider!, parties()[1]!]);
    assert.equal(refused.created.status, 409);
    const sessionId = uniqueId('session');
    await webhook(stack, '/call-action', callReceived(rider!.number, VIRTUAL_NUMBER, sessionId));
    const status = await webhook(
      stack,
      '/call-status',
      callStatus({ sessionId, caller: rider!.number, virtualNumber: VIRTUAL_NUMBER, callStatus: 'CALL_CONNECTED' }),
    );
    assert.equal(status.body.outcome, 'delivered');
    const summary = sessionSummary({
      sessionId,
      caller: rider!.number,
      virtualNumber: VIRTUAL_NUMBER,
      callee: driver!.number,
      sessionStatus: 'COMPLETED',
      durationSeconds: 42,
    });
    assert.equal((await webhook(stack, '/session-summary', summary)).body.outcome, 'delivered');
    assert.equal((await api(stack, 'POST', `/v1/bookings/${completed.bookingId}/complete`)).status, 202);

    const cancelled = await book();
    assert.equal((await api(stack, 'POST', `/v1/bookings/${cancelled.bookingId}/cancel`)).status, 202);
    const expired = await book({ expiresInSeconds: 1 });

    await eventuallyReceived(receiver, completed.bookingId, [
      'booking.active',
      'call.connected',
      'call.ended',
      'booking.completing',
      'booking.completed',
    ]);
    await eventuallyReceived(receiver, cancelled.bookingId, ['booking.active', 'booking.cancelled']);
    await eventuallyReceived(receiver, expired.bookingId, ['booking.active', 'booking.expired']);
    await eventuallyReceived(receiver, refused.bookingId, ['booking.refused']);

    for (const request of receiver.received) {
      for (const secret of [NEW_SECRET, OLD_SECRET]) {
        const verified = new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
        assert.equal((verified as ReceivedBookingEvent).id, request.headers['webhook-id']);
      }
      assert.throws(() =>
        new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(
          request.body,
          request.headers as Record<string, string>,
        ),
      );
    }
    const [connected, ended] = firstArrivals(receiver, completed.bookingId).slice(1, 3);
    assert.deepEqual(connected?.data, {
      sessionId,
      caller: { role: 'rider' },
      callee: { role: 'driver' },
      connectedAt: connected?.data.connectedAt,
    });
    assert.equal(ended?.data.outcome, 'completed');
    assert.equal(ended?.data.durationSeconds, 42);
    assert.deepEqual(firstArrivals(receiver, refused.bookingId)[0]?.data, { reason: 'no_number_available' });

    // Roles, never the parties' numbers, in any form.
    const everything = receiver.received.map((request) => request.body).join('\n');
    for (const party of [...completed.who, ...cancelled.who, ...expired.who, ...refused.who]) {
      assert.ok(!everything.includes(party.number.slice(1)), 'no party number in an event');
    }
    assertOneIdPerEvent(receiver);
  });

  it('a receiver down for a while, then back, gets every event, in order per booking, none under two ids', async () => {
    await receiver.down();
    const first = await book({ gracePeriodSeconds: 1 });
    const second = await book();
    assert.equal(first.created.status, 201);
    assert.equal((await api(stack, 'POST', `/v1/bookings/${first.bookingId}/complete`)).status, 202);
    assert.equal((await api(stack, 'POST', `/v1/bookings/${second.bookingId}/cancel`)).status, 202);
    await sleep(5_000);
    await receiver.up();

    await eventuallyReceived(receiver, first.bookingId, ['booking.active', 'booking.completing', 'booking.completed']);
    await eventuallyReceived(receiver, second.bookingId, ['booking.active', 'booking.cancelled']);
    assertOneIdPerEvent(receiver);
    const events = await api(stack, 'GET', `/v1/bookings/${first.bookingId}/events`);
    assert.equal(events.status, 200);
    const deliveries = events.body.events.map(
      (record: { delivery: { status: string; attempts: number } }) => record.delivery,
    );
    assert.ok(
      deliveries.every((delivery: { status: string }) => delivery.status === 'delivered'),
      JSON.stringify(deliveries),
    );
    assert.ok(deliveries[0].attempts > 1, 'the first event took more than one attempt');
  });

  it('a worker stopped in the middle of a delivery loses nothing: the event comes again, with the same id', async () => {
    let hold: (() => void) | null = null;
    const held = new Promise<void>((resolve) => (hold = resolve));
    let first = true;
    receiver.answer = async () => {
      if (!first) return 204;
      first = false;
      await held;
      return 204;
    };
    try {
      const booking = await book({ gracePeriodSeconds: 1 });
      assert.equal(booking.created.status, 201);
      await eventually(
        async () =>
          ofBooking(
            receiver.received.map((request) => JSON.parse(request.body)),
            booking.bookingId,
          ),
        (requests) => requests.length > 0,
      );
      await stack.stopWorker();
      hold!();
      await stack.startWorker();
      assert.equal((await api(stack, 'POST', `/v1/bookings/${booking.bookingId}/complete`)).status, 202);
      await eventuallyReceived(receiver, booking.bookingId, [
        'booking.active',
        'booking.completing',
        'booking.completed',
      ]);
      const active = firstArrivals(receiver, booking.bookingId)[0]!;
      const attempts = receiver.received.filter((request) => request.headers['webhook-id'] === active.id);
      assert.ok(attempts.length >= 2, 'the interrupted delivery was made again');
      assertOneIdPerEvent(receiver);
    } finally {
      receiver.answer = () => 204;
    }
  });

  it('a receiver refusing an event (4xx) is not retried; redelivery on request sends it again, with its id', async () => {
    let refusing = true;
    receiver.answer = () => (refusing ? 410 : 204);
    try {
      const booking = await book();
      assert.equal(booking.created.status, 201);
      const failed = await eventually(
        () => api(stack, 'GET', `/v1/bookings/${booking.bookingId}/events`),
        (answer) => answer.body?.events?.[0]?.delivery.status === 'failed',
      );
      const [record] = failed.body.events;
      assert.equal(record.event.type, 'booking.active');
      assert.equal(record.delivery.responseStatus, 410);
      assert.equal(record.delivery.attempts, 1);
      await sleep(3_000);
      const refusedRequests = receiver.received.filter((request) => request.headers['webhook-id'] === record.event.id);
      assert.equal(refusedRequests.length, 1, 'a 410 is not retried');

      refusing = false;
      const redelivery = await api(
        stack,
        'POST',
        `/v1/bookings/${booking.bookingId}/events/${record.event.id}/redeliver`,
      );
      assert.equal(redelivery.status, 202, JSON.stringify(redelivery.body));
      const delivered = await eventually(
        () => api(stack, 'GET', `/v1/bookings/${booking.bookingId}/events`),
        (answer) => answer.body.events[0].delivery.status === 'delivered',
      );
      assert.equal(delivered.body.events[0].delivery.redeliveries, 1);
      assert.deepEqual(
        firstArrivals(receiver, booking.bookingId).map((event) => event.id),
        [record.event.id],
      );
      const unknown = await api(stack, 'POST', `/v1/bookings/${booking.bookingId}/events/evt_nope/redeliver`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'event_not_found');
    } finally {
      receiver.answer = () => 204;
    }
  });

  it('a booking that ends while its receiver is down hands its events on; they arrive, and can be sent again', async () => {
    await receiver.down();
    const booking = await book();
    assert.equal(booking.created.status, 201);
    assert.equal((await api(stack, 'POST', `/v1/bookings/${booking.bookingId}/cancel`)).status, 202);
    // Past the 30 s an ended booking waits for its receiver: its run ends, its events workflow delivers.
    await eventually(
      async () => (await stack.temporal.workflow.getHandle(`booking-${booking.bookingId}`).describe()).status.name,
      (status) => status === 'COMPLETED',
      45_000,
    );
    await receiver.up();
    await eventuallyReceived(receiver, booking.bookingId, ['booking.active', 'booking.cancelled']);
    const read = await eventually(
      () => api(stack, 'GET', `/v1/bookings/${booking.bookingId}/events`),
      (answer) =>
        answer.body.events.every((record: { delivery: { status: string } }) => record.delivery.status === 'delivered'),
    );
    const cancelled = read.body.events[1].event;
    const sentBefore = receiver.received.filter((request) => request.headers['webhook-id'] === cancelled.id).length;

    const redelivery = await api(stack, 'POST', `/v1/bookings/${booking.bookingId}/events/${cancelled.id}/redeliver`);
    assert.equal(redelivery.status, 202, JSON.stringify(redelivery.body));
    await eventually(
      async () => receiver.received.filter((request) => request.headers['webhook-id'] === cancelled.id).length,
      (count) => count > sentBefore,
    );
    assertOneIdPerEvent(receiver);
  });

  it('asking for the events of a booking that does not exist is a 404', async () => {
    const answer = await api(stack, 'GET', `/v1/bookings/${uniqueId('nobody')}/events`);
    assert.equal(answer.status, 404);
    assert.equal(answer.body.error.code, 'booking_not_found');
  });
  it("a booking's own callbackUrl gets its events, signed, and the deployment's receiver none of them", async () => {
    const own = await EventReceiver.start();
    try {
      const booking = await book({ callbackUrl: own.url });
      assert.equal(booking.created.status, 201, JSON.stringify(booking.created.body));
      assert.equal((await api(stack, 'POST', `/v1/bookings/${booking.bookingId}/cancel`)).status, 202);
      await eventuallyReceived(own, booking.bookingId, ['booking.active', 'booking.cancelled']);
      const verifier = new Webhook(NEW_SECRET);
      for (const request of own.received) verifier.verify(request.body, request.headers as Record<string, string>);
      assert.deepEqual(ofBooking(receiver.accepted(), booking.bookingId), []);
    } finally {
      await own.down();
    }
  });
});

describe('a callbackUrl where no secret can sign events', () => {
  it('is refused with 400 at creation, rather than taken and never sent', () => {
    const request = { bookingId: 'unsigned', parties: parties(), callbackUrl: 'https://platform.example/events' };
    const options = { allowPlainHttp: false, eventNumbers: false, eventsUrlSet: false };
    assert.throws(
      () => parseBookingRequest(request, { ...options, canSign: false }),
      (error: unknown) =>
        error instanceof HttpError && error.status === 400 && /MASKLINE_EVENTS_SECRETS/.test(error.message),
    );
    assert.equal(parseBookingRequest(request, { ...options, canSign: true }).callbackUrl, request.callbackUrl);
  });
});
