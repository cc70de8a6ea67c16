import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBookingActivities } from '../activities/booking';
import { parseBookingRequest } from '../src/http/requests';
import { MongoAllocationStore } from '../src/store/allocationStore';
import { createDataConverter } from '../src/temporal/payloadEncryption';
import { bookingWorkflow } from '../workflows/booking';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { api, eventually, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

const RIDER = '+6591230001';
const DRIVER = '+6598760001';

/** A promise and the function that settles it (Node 20 has no Promise.withResolvers). */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

function ride(bookingId: string, extra: Record<string, unknown> = {}, parties = [RIDER, DRIVER]) {
  return {
    bookingId,
    parties: [
      { role: 'rider', number: parties[0] },
      { role: 'driver', number: parties[1] },
    ],
    ...extra,
  };
}

describe('booking lifecycle', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: '+6560001001' })).status, 201);
  });
  after(() => stack.stop());

  it('cancelling releases the number at once', async () => {
    const bookingId = uniqueId('cancel');
    const created = await api(stack, 'POST', '/v1/bookings', ride(bookingId));
    assert.equal(created.status, 201);
    const cancelled = await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
    assert.equal(cancelled.status, 202);
    assert.equal(cancelled.body.status, 'cancelled');
    await eventually(
      () => api(stack, 'GET', '/v1/numbers'),
      (answer) => answer.body.numbers[0].liveBookings === 0,
    );
    const call = await webhook(stack, '/call-action', callReceived(RIDER, created.body.virtualNumber));
    assert.equal(call.body.callflow[0].action, 'say');
    const again = await api(stack, 'POST', `/v1/bookings/${bookingId}/complete`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'booking_closed');
  });

  it('a booking expires when its time is up and gives its number back', async () => {
    const bookingId = uniqueId('expire');
    const created = await api(stack, 'POST', '/v1/bookings', ride(bookingId, { expiresInSeconds: 2 }));
    assert.equal(created.status, 201);
    assert.equal(Date.parse(created.body.expiresAt) - Date.parse(created.body.createdAt), 2000);
    const expired = await eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (answer) => answer.body.status === 'expired' && answer.body.endedAt !== null,
    );
    assert.equal(expired.status, 200);
    const numbers = await api(stack, 'GET', '/v1/numbers');
    assert.equal(numbers.body.numbers[0].liveBookings, 0);
  });

  it('cancelling during the grace period ends it early', async () => {
    const bookingId = uniqueId('grace');
    await api(stack, 'POST', '/v1/bookings', ride(bookingId, { gracePeriodSeconds: 3600 }));
    assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/complete`)).body.status, 'completing');
    assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/complete`)).status, 202);
    assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`)).body.status, 'cancelled');
    await eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (answer) => answer.body.endedAt !== null,
    );
  });

  it('refuses a booking when no number is free for both parties, holding nothing, and accepts it once one is', async () => {
    const holding = uniqueId('holding');
    assert.equal((await api(stack, 'POST', '/v1/bookings', ride(holding))).status, 201);
    const bookingId = uniqueId('refused');
    const refused = await api(stack, 'POST', '/v1/bookings', ride(bookingId, {}, [RIDER, '+6598760002']));
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'no_number_available');
    const record = await api(stack, 'GET', `/v1/bookings/${bookingId}`);
    assert.equal(record.body.status, 'refused');
    assert.equal(await stack.database.collections.claims.countDocuments({ bookingId }), 0);

    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: '+6560001002' })).status, 201);
    const retried = await api(stack, 'POST', '/v1/bookings', ride(bookingId, {}, [RIDER, '+6598760002']));
    assert.equal(retried.status, 201);
    assert.equal(retried.body.virtualNumber, '+6560001002');
    await api(stack, 'POST', `/v1/bookings/${holding}/cancel`);
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
  });

  it('a finished booking asked for again is answered as it ended, not started anew', async () => {
    const bookingId = uniqueId('finished');
    await api(stack, 'POST', '/v1/bookings', ride(bookingId));
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
    await eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (answer) => answer.body.endedAt !== null,
    );
    const again = await api(stack, 'POST', '/v1/bookings', ride(bookingId));
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'cancelled');
    const other = await api(stack, 'POST', '/v1/bookings', ride(bookingId, {}, [RIDER, '+6598760009']));
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, 'booking_conflict');
  });

  it('an operator cancelling the workflow in Temporal still gives the number back', async () => {
    const bookingId = uniqueId('operator');
    const created = await api(stack, 'POST', '/v1/bookings', ride(bookingId));
    assert.equal(created.status, 201);
    await stack.temporal.workflow.getHandle(`booking-${bookingId}`).cancel();
    await eventually(
      () => stack.database.collections.claims.countDocuments({ bookingId }),
      (claims) => claims === 0,
    );
    const booking = await api(stack, 'GET', `/v1/bookings/${bookingId}`);
    assert.equal(booking.body.status, 'cancelled');
    assert.equal(
      await stack.database.collections.leases.countDocuments({ _id: bookingId, status: { $ne: 'released' } }),
      0,
    );
  });

  it('a booking terminated by an operator and booked again with other parties connects the new parties, never the old', async () => {
    const bookingId = uniqueId('rebooked');
    const first = await api(stack, 'POST', '/v1/bookings', ride(bookingId));
    assert.equal(first.status, 201);
    // Terminated: nothing runs its release, so its pairing is left behind until the reconciler finds it.
    await stack.temporal.workflow.getHandle(`booking-${bookingId}`).terminate('operator');
    const customer = '+6591230005';
    const courier = '+6598760005';
    const again = await api(stack, 'POST', '/v1/bookings', ride(bookingId, {}, [customer, courier]));
    assert.equal(again.status, 201);
    const call = await webhook(stack, '/call-action', callReceived(customer, again.body.virtualNumber));
    assert.equal(call.body.callflow[0].action, 'makeCall');
    assert.equal(call.body.callflow[0].params.destination, courier);
    const stale = await webhook(stack, '/call-action', callReceived(RIDER, again.body.virtualNumber));
    assert.equal(stale.body.callflow[0].action, 'say', 'the earlier run\u2019s rider reaches nobody');
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
    await eventually(
      () => stack.database.collections.claims.countDocuments({ bookingId }),
      (claims) => claims === 0,
    );
  });

  it('unknown bookings are 404', async () => {
    for (const [method, path] of [
      ['GET', '/v1/bookings/nope'],
      ['POST', '/v1/bookings/nope/complete'],
      ['POST', '/v1/bookings/nope/cancel'],
    ] as const) {
      const answer = await api(stack, method, path);
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(answer.body.error.code, 'booking_not_found');
    }
  });
});

describe('a booking cancelled by an operator while its number is being allocated', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: '+6560001002' })).status, 201);
  });
  after(() => stack.stop());

  it('ends holding nothing, even though the allocation under way finishes after the cancellation', async () => {
    // A worker whose allocation stops after claiming, before it writes the pairing, until the test lets it go on.
    // It tells the test when the workflow has acted on the cancellation: the attempt's own signal is aborted.
    const claimed = deferred();
    const attemptCancelled = deferred();
    const goOn = deferred();
    class PausedAfterClaiming extends MongoAllocationStore {
      override async recordLease(...args: Parameters<MongoAllocationStore['recordLease']>) {
        Context.current().cancellationSignal.addEventListener('abort', () => attemptCancelled.resolve());
        claimed.resolve();
        await goOn.promise;
        return super.recordLease(...args);
      }
    }
    const taskQueue = uniqueId('paused-allocation');
    const connection = await NativeConnection.connect({ address: stack.config.temporalAddress });
    const worker = await Worker.create({
      connection,
      namespace: stack.config.temporalNamespace,
      taskQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: createBookingActivities({ allocations: new PausedAfterClaiming(stack.database.collections) }),
      dataConverter: createDataConverter(stack.config.encryptionKeys),
    });
    const running = worker.run();
    try {
      const bookingId = uniqueId('operator-mid-allocation');
      const handle = await stack.temporal.workflow.start(bookingWorkflow, {
        workflowId: `booking-${bookingId}`,
        taskQueue,
        args: [parseBookingRequest(ride(bookingId, {}, ['+6591230002', '+6598760002']))],
      });
      await claimed.promise;
      assert.equal(await stack.database.collections.claims.countDocuments({ bookingId }), 2);
      await handle.cancel();
      // Let the workflow act on the cancellation before the allocation finishes: an early release would be done
      // by the time the attempt hears it is cancelled.
      await attemptCancelled.promise;
      await new Promise((resolve) => setTimeout(resolve, 500));
      goOn.resolve();

      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError);
      assert.equal(await stack.database.collections.claims.countDocuments({ bookingId }), 0);
      assert.equal(
        await stack.database.collections.leases.countDocuments({ _id: bookingId, status: { $ne: 'released' } }),
        0,
      );
      const booking = await api(stack, 'GET', `/v1/bookings/${bookingId}`);
      assert.equal(booking.body.status, 'cancelled');
    } finally {
      goOn.resolve();
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});

describe('booking requests that are refused at the door', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  const invalid: [string, unknown, RegExp][] = [
    ['one party', { bookingId: 'x', parties: [{ role: 'rider', number: RIDER }] }, /^parties: /],
    [
      'six parties (five at most)',
      { bookingId: 'x', parties: [1, 2, 3, 4, 5, 6].map((i) => ({ role: `r${i}`, number: `+659123000${i}` })) },
      /^parties/,
    ],
    ['equal numbers', ride('x', {}, [RIDER, RIDER]), /^parties\.1\.number: must differ/],
    ['not a phone number', ride('x', {}, [RIDER, 'call me maybe']), /^parties\.1\.number: not a valid phone number/],
    ['too short a number', ride('x', {}, [RIDER, '+6512']), /^parties\.1\.number/],
    ['a fractional duration', ride('x', { expiresInSeconds: 1.5 }), /^expiresInSeconds: must be a whole number/],
    ['a zero expiry', ride('x', { expiresInSeconds: 0 }), /^expiresInSeconds: must be at least 1/],
    ['an expiry over 30 days', ride('x', { expiresInSeconds: 30 * 86400 + 1 }), /^expiresInSeconds: must be at most/],
    ['a negative grace period', ride('x', { gracePeriodSeconds: -1 }), /^gracePeriodSeconds: must be at least 0/],
    ['a grace period over a day', ride('x', { gracePeriodSeconds: 86401 }), /^gracePeriodSeconds: must be at most/],
    ['a duration as a string', ride('x', { expiresInSeconds: '60' }), /^expiresInSeconds/],
    ['no bookingId', { parties: ride('x').parties }, /^bookingId: is required/],
    ['an unknown geoMatch', ride('x', { geoMatch: 'nearby' }), /^geoMatch/],
    ['an array body', [], /^body/],
  ];
  for (const [what, body, message] of invalid) {
    it(`a booking with ${what} is a 400 naming the field`, async () => {
      const answer = await api(stack, 'POST', '/v1/bookings', body);
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error.code, 'invalid_request');
      assert.match(answer.body.error.message, message);
    });
  }

  it('malformed JSON is a 400 invalid_json', async () => {
    const answer = await api(stack, 'POST', '/v1/bookings', '{"bookingId": ');
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'invalid_json');
  });

  it('the API refuses requests without the right key, and webhooks without the right secret', async () => {
    for (const key of ['', 'wrong-key-wrong-key']) {
      const answer = await api(stack, 'GET', '/v1/numbers', undefined, key);
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error.code, 'unauthorized');
    }
    const call = await webhook(stack, '/call-action', callReceived(RIDER, '+6560001001'), 'wrong-secret');
    assert.equal(call.status, 401);
    assert.equal(call.body.callflow.at(-1).action, 'hangup');
    const status = await webhook(stack, '/call-status', {}, '');
    assert.equal(status.status, 401);
  });

  it('numbers are normalised to E.164 and a number added twice is a 409', async () => {
    const added = await api(stack, 'POST', '/v1/numbers', { number: '65 6000 2001' });
    assert.equal(added.status, 201);
    assert.equal(added.body.number, '+6560002001');
    assert.equal(added.body.countryCode, 'SG');
    const again = await api(stack, 'POST', '/v1/numbers', { number: '+6560002001' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'number_exists');
    const drained = await api(stack, 'DELETE', `/v1/numbers/${encodeURIComponent('+6560002001')}`);
    assert.equal(drained.status, 202);
    assert.equal(drained.body.status, 'draining');
  });
});
