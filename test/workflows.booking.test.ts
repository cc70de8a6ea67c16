import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, Worker } from '@temporalio/worker';
import type { BookingActivities } from '../activities/booking';
import type { EventActivities } from '../activities/events';
import type { BookingEvent } from '../src/events/bookingEvents';
import { bookingEventsQuery } from '../src/events/messages';
import type { Holder } from '../src/domain/allocation';
import { BOOKING_DEFAULTS, type BookingRequest } from '../src/domain/booking';
import { bookingWorkflow } from '../workflows/booking';
import {
  bookingStateQuery,
  callEventSignal,
  closeBookingUpdate,
  confirmBookingUpdate,
  type CallEventSignal,
} from '../src/bookings/contract';
import { eventually, uniqueId } from '../harness/stack';

/**
 * The booking workflow as a workflow: Temporal's time-skipping test server, and activities that stand in for the
 * store. Timers (expiry, grace) pass in milliseconds; what the workflow asked of its activities is recorded.
 */
class StubActivities {
  readonly released: Holder[] = [];
  readonly completing: Holder[] = [];
  readonly allocations: Holder[] = [];
  /** Every booking event posted, in the order the platform received them. */
  readonly events: BookingEvent[] = [];
  /** What the next allocation does. */
  allocate: (
    request: BookingRequest,
  ) => Promise<
    { outcome: 'allocated'; virtualNumber: string } | { outcome: 'refused'; reason: 'no_number_available' }
  > = async () => ({ outcome: 'allocated', virtualNumber: '+6560000001' });

  activities(): Pick<BookingActivities, 'allocateVirtualNumber' | 'markCompleting' | 'releaseVirtualNumber'> &
    EventActivities {
    return {
      deliverBookingEvent: async (_stream, event) => {
        this.events.push(event);
        return { status: 'delivered', responseStatus: 204, attempts: 1 };
      },
      allocateVirtualNumber: async (request, holder) => {
        this.allocations.push(holder!);
        return this.allocate(request);
      },
      markCompleting: async (holder) => {
        this.completing.push(holder as Holder);
      },
      releaseVirtualNumber: async (holder) => {
        this.released.push(holder as Holder);
      },
    };
  }
}

/** The update failed with an application failure of this type, as the platform's answer reads it. */
function failedWith(type: string) {
  return (error: unknown) =>
    error instanceof WorkflowUpdateFailedError && (error.cause as ApplicationFailure).type === type;
}

function request(extra: Partial<BookingRequest> = {}): BookingRequest {
  return {
    ...BOOKING_DEFAULTS,
    bookingId: uniqueId('wf'),
    parties: [
      { role: 'rider', number: '+6591000001' },
      { role: 'driver', number: '+6591000002' },
    ],
    ...extra,
  };
}

describe('the booking workflow, with time skipped', { timeout: 120_000 }, () => {
  let env: TestWorkflowEnvironment;
  const stubs = new StubActivities();
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueId('workflow-tests');

  before(async () => {
    Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
    const path = process.env.MASKLINE_TEMPORAL_TEST_SERVER;
    env = await TestWorkflowEnvironment.createTimeSkipping(
      path ? { server: { executable: { type: 'existing-path', path } } } : {},
    );
    // The booking publishes these for operators; the test server knows none until told.
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: {
        BookingStatus: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        VirtualNumber: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        BookingPartyRoles: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
      },
    });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: stubs.activities(),
    });
    running = worker.run();
  });
  after(async () => {
    worker.shutdown();
    await running;
    await env.teardown();
  });

  async function start(booking: BookingRequest) {
    const handle = await env.client.workflow.start(bookingWorkflow, {
      workflowId: `booking-${booking.bookingId}`,
      taskQueue,
      args: [booking],
    });
    const confirmed = await handle.executeUpdate(confirmBookingUpdate, { args: [booking] });
    return { handle, confirmed };
  }

  const releasesOf = (bookingId: string) => stubs.released.filter((holder) => holder.bookingId === bookingId);
  const eventsOf = (bookingId: string) => stubs.events.filter((event) => event.bookingId === bookingId);
  const typesOf = (bookingId: string) => eventsOf(bookingId).map((event) => event.type);

  it('each way a booking ends is told to the platform, in order, after its active event', async () => {
    const expiring = request({ expiresInSeconds: 3600 });
    const completing = request({ gracePeriodSeconds: 600 });
    const cancelled = request();
    for (const booking of [expiring, completing, cancelled]) await start(booking);
    const handle = (booking: BookingRequest) => env.client.workflow.getHandle(`booking-${booking.bookingId}`);
    await handle(completing).executeUpdate(closeBookingUpdate, { args: ['complete'] });
    await handle(cancelled).executeUpdate(closeBookingUpdate, { args: ['cancel'] });
    await handle(cancelled).executeUpdate(closeBookingUpdate, { args: ['cancel'] });
    for (const booking of [expiring, completing, cancelled]) await handle(booking).result();

    assert.deepEqual(typesOf(expiring.bookingId), ['booking.active', 'booking.expired']);
    assert.deepEqual(typesOf(completing.bookingId), ['booking.active', 'booking.completing', 'booking.completed']);
    assert.deepEqual(typesOf(cancelled.bookingId), ['booking.active', 'booking.cancelled']);
    const [active] = eventsOf(expiring.bookingId);
    assert.equal(active?.type, 'booking.active');
    assert.deepEqual(active.data.parties, [{ role: 'rider' }, { role: 'driver' }], 'roles, never numbers');
    assert.equal(active.data.virtualNumber, '+6560000001');
    const ids = stubs.events.map((event) => event.id);
    assert.equal(new Set(ids).size, ids.length, 'every event has an id of its own');
    const view = await handle(completing).query(bookingEventsQuery);
    assert.deepEqual(
      view.events.map((record) => [record.event.type, record.delivery.status]),
      [
        ['booking.active', 'delivered'],
        ['booking.completing', 'delivered'],
        ['booking.completed', 'delivered'],
      ],
    );
  });

  it('a call is told once as connected and once as ended, whoever called, however often 8x8 repeats', async () => {
    const booking = request();
    const { handle } = await start(booking);
    const at = (second: number) => new Date(1_700_000_000_000 + second * 1000).toISOString();
    const status = (status: string, second: number): CallEventSignal => ({
      sessionId: 'session-1',
      callerRole: 'driver',
      kind: 'status',
      at: at(second),
      status,
    });
    const summary: CallEventSignal = {
      sessionId: 'session-1',
      callerRole: 'driver',
      kind: 'summary',
      at: at(60),
      status: 'NO_ANSWER',
      startedAt: at(0),
      endedAt: at(60),
      durationSeconds: 0,
    };
    for (const event of [status('CALL_INITIATED', 0), status('CALL_CONNECTED', 5), status('CALL_CONNECTED', 5)]) {
      await handle.signal(callEventSignal, event);
    }
    await handle.signal(callEventSignal, summary);
    await handle.signal(callEventSignal, summary);
    await handle.executeUpdate(closeBookingUpdate, { args: ['cancel'] });
    await handle.result();

    const calls = eventsOf(booking.bookingId).filter((event) => event.type.startsWith('call.'));
    assert.deepEqual(
      calls.map((event) => event.type),
      ['call.connected', 'call.ended'],
    );
    const [connected, ended] = calls;
    assert.ok(connected?.type === 'call.connected' && ended?.type === 'call.ended');
    assert.deepEqual(connected.data, {
      sessionId: 'session-1',
      caller: { role: 'driver' },
      callee: { role: 'rider' },
      connectedAt: at(5),
    });
    assert.equal(ended.data.outcome, 'no_answer');
    assert.equal(ended.data.durationSeconds, 0);
    assert.equal(ended.timestamp, at(60));
  });

  it('a booking nobody closes expires when its time is up, and gives its number back once', async () => {
    const booking = request({ expiresInSeconds: 4 * 3600 });
    const { handle, confirmed } = await start(booking);
    assert.equal(confirmed.booking.status, 'active');
    const ended = await handle.result();
    assert.equal(ended.status, 'expired');
    assert.equal(ended.numberReleased, true);
    assert.equal(releasesOf(booking.bookingId).length, 1);
  });

  it('a completed booking keeps its number through the grace period, then gives it back', async () => {
    const booking = request({ gracePeriodSeconds: 600 });
    const { handle } = await start(booking);
    const closed = await handle.executeUpdate(closeBookingUpdate, { args: ['complete'] });
    assert.equal(closed.status, 'completing');
    const during = await handle.query(bookingStateQuery);
    assert.equal(during.numberReleased, false);
    assert.ok(during.graceEndsAt);
    const ended = await handle.result();
    assert.equal(ended.status, 'completed');
    assert.equal(stubs.completing.filter((holder) => holder.bookingId === booking.bookingId).length, 1);
    assert.equal(releasesOf(booking.bookingId).length, 1);
  });

  it('a cancellation during the grace period ends it at once', async () => {
    const booking = request({ gracePeriodSeconds: 24 * 3600 });
    const { handle } = await start(booking);
    await handle.executeUpdate(closeBookingUpdate, { args: ['complete'] });
    await handle.executeUpdate(closeBookingUpdate, { args: ['cancel'] });
    const ended = await handle.result();
    assert.equal(ended.status, 'cancelled');
    assert.equal(releasesOf(booking.bookingId).length, 1);
  });

  it('a booking refused a number fails its run, holding nothing, and tells the platform why', async () => {
    stubs.allocate = async () => ({ outcome: 'refused', reason: 'no_number_available' });
    try {
      const booking = request();
      const handle = await env.client.workflow.start(bookingWorkflow, {
        workflowId: `booking-${booking.bookingId}`,
        taskQueue,
        args: [booking],
      });
      await assert.rejects(
        handle.executeUpdate(confirmBookingUpdate, { args: [booking] }),
        failedWith('no_number_available'),
      );
      await assert.rejects(handle.result(), WorkflowFailedError);
      // Nothing was claimed; the run ends at once, so that the platform's retry starts a new one.
      assert.equal(releasesOf(booking.bookingId).length, 0);
      assert.deepEqual(
        eventsOf(booking.bookingId).map((event) => [event.type, event.data]),
        [['booking.refused', { reason: 'no_number_available' }]],
      );
      assert.equal((await handle.query(bookingStateQuery)).status, 'refused');
    } finally {
      stubs.allocate = async () => ({ outcome: 'allocated', virtualNumber: '+6560000001' });
    }
  });

  it('an allocation that keeps failing is refused as allocation_failed, and what it claimed is given back', async () => {
    stubs.allocate = async () => {
      throw ApplicationFailure.create({ message: 'store refused', nonRetryable: true });
    };
    try {
      const booking = request();
      const handle = await env.client.workflow.start(bookingWorkflow, {
        workflowId: `booking-${booking.bookingId}`,
        taskQueue,
        args: [booking],
      });
      await assert.rejects(
        handle.executeUpdate(confirmBookingUpdate, { args: [booking] }),
        failedWith('allocation_failed'),
      );
      assert.equal((await handle.query(bookingStateQuery)).refusal, 'allocation_failed');
      assert.equal(releasesOf(booking.bookingId).length, 1);
    } finally {
      stubs.allocate = async () => ({ outcome: 'allocated', virtualNumber: '+6560000001' });
    }
  });

  it('a booking with many calls continues in a new run, keeping its state, and still releases once', async () => {
    const booking = request();
    const { handle } = await start(booking);
    const firstRun = (await handle.describe()).runId;
    // Each call is a few signals; this many grow one history past the bound even if every one is an event alone.
    for (let i = 0; i < 2_100; i++) {
      const event: CallEventSignal = {
        sessionId: `session-${i % 150}`,
        callerRole: 'rider',
        kind: i % 2 === 0 ? 'status' : 'summary',
        at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
        status: i % 2 === 0 ? 'CALL_CONNECTED' : 'COMPLETED',
      };
      await handle.signal(callEventSignal, event);
    }
    const latest = env.client.workflow.getHandle(`booking-${booking.bookingId}`);
    const continued = await eventually(
      () => latest.describe(),
      (description) => description.runId !== firstRun && description.status.name === 'RUNNING',
    );
    assert.ok(
      continued.historyLength < 2_100,
      `the new run starts a short history (${continued.historyLength} events)`,
    );
    const view = await env.client.workflow.getHandle(`booking-${booking.bookingId}`).query(bookingStateQuery);
    assert.equal(view.status, 'active');
    assert.equal(view.virtualNumber, '+6560000001');
    assert.equal(view.calls.length, 100, 'the booking keeps its last 100 calls');
    assert.equal(stubs.allocations.filter((holder) => holder.bookingId === booking.bookingId).length, 1);

    await env.client.workflow
      .getHandle(`booking-${booking.bookingId}`)
      .executeUpdate(closeBookingUpdate, { args: ['cancel'] });
    const ended = await env.client.workflow.getHandle(`booking-${booking.bookingId}`).result();
    assert.equal(ended.status, 'cancelled');
    const released = releasesOf(booking.bookingId);
    assert.equal(released.length, 1);
    assert.deepEqual(
      released[0],
      stubs.allocations.find((holder) => holder.bookingId === booking.bookingId),
    );
  });
});
