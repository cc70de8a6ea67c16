import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Holder } from '../src/domain/allocation';
import { BOOKING_DEFAULTS, type Party } from '../src/domain/booking';
import { reconcilePairings } from '../src/bookings/reconciliation';
import { createLogger } from '../src/logging/logger';
import { MongoAllocationStore } from '../src/store/allocationStore';
import { CallRoutes } from '../src/store/callRoutes';
import { Holdings } from '../src/store/holdings';
import { ensurePairingReconciliation } from '../src/temporal/schedules';
import { reconcilePairingsWorkflow } from '../workflows/reconciliation';
import { api, startStack, uniqueId, type Stack } from '../harness/stack';

describe('pairing reconciliation', () => {
  let stack: Stack;
  let leases: MongoAllocationStore;
  let routes: CallRoutes;
  let holdings: Holdings;
  const silent = { info() {} };

  before(async () => {
    stack = await startStack();
    leases = new MongoAllocationStore(stack.database.collections);
    routes = new CallRoutes(stack.database.collections);
    holdings = new Holdings(stack.database.collections);
    for (let i = 1; i <= 6; i++) await api(stack, 'POST', '/v1/numbers', { number: `+656000400${i}` });
  });
  after(() => stack.stop());

  /** What a run holds when it could not give it back: both claims and its lease. */
  async function leftBehind(holder: Holder, parties: [Party, Party], virtualNumber: string) {
    await leases.claim({ holder, party: parties[0], otherParty: parties[1], virtualNumber });
    await leases.claim({ holder, party: parties[1], otherParty: parties[0], virtualNumber });
    const request = { ...BOOKING_DEFAULTS, bookingId: holder.bookingId, parties, expiresInSeconds: 60 };
    await leases.recordLease({ bookingId: holder.bookingId, virtualNumber, parties }, holder, request);
  }

  async function createBooking(rider: string, driver: string) {
    const bookingId = uniqueId('live');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: rider },
        { role: 'driver', number: driver },
      ],
    });
    assert.equal(created.status, 201);
    return { bookingId, virtualNumber: created.body.virtualNumber as string };
  }

  it('releases a pairing whose workflow no longer runs, reports it, and leaves live bookings alone', async () => {
    const live = await createBooking('+6591234001', '+6598764001');
    // A pairing left behind by a booking whose workflow is gone (terminated, or its history lost).
    const orphan = uniqueId('orphan');
    const parties: [Party, Party] = [
      { role: 'rider', number: '+6591234002' },
      { role: 'driver', number: '+6598764002' },
    ];
    await leftBehind({ bookingId: orphan, run: 'gone', runStartedAt: Date.now() }, parties, '+6560004002');
    assert.ok(await routes.findRoute('+6591234002', '+6560004002'));

    const report = await stack.temporal.workflow.execute(reconcilePairingsWorkflow, {
      workflowId: uniqueId('reconcile'),
      taskQueue: stack.config.temporalTaskQueue,
    });
    assert.deepEqual(report.released, [orphan]);
    assert.equal(report.orphaned, 1);
    assert.equal(report.checked, 2);
    assert.equal(report.described, 1, 'only the run the listing could not vouch for is asked about');
    assert.equal(await routes.findRoute('+6591234002', '+6560004002'), null);
    assert.ok(await routes.findRoute('+6591234001', live.virtualNumber), 'the live booking still routes');
    await api(stack, 'POST', `/v1/bookings/${live.bookingId}/cancel`);
  });

  it('releases what an earlier run of a bookingId left behind while a later run of it is live', async () => {
    const live = await createBooking('+6591234003', '+6598764003');
    const parties: [Party, Party] = [
      { role: 'rider', number: '+6591234004' },
      { role: 'driver', number: '+6598764004' },
    ];
    // Claims of a run of the same bookingId that was terminated before this one started, on other people.
    const earlier = { bookingId: live.bookingId, run: 'terminated-run', runStartedAt: Date.now() - 60_000 };
    await leases.claim({ holder: earlier, party: parties[0], otherParty: parties[1], virtualNumber: '+6560004003' });
    await leases.claim({ holder: earlier, party: parties[1], otherParty: parties[0], virtualNumber: '+6560004003' });

    const report = await reconcilePairings(
      { holdings, allocations: leases, temporal: stack.temporal, log: silent },
      { taskQueue: stack.config.temporalTaskQueue },
    );
    assert.ok(report.released.includes(live.bookingId));
    assert.equal(await routes.findRoute('+6591234004', '+6560004003'), null);
    assert.equal((await routes.findRoute('+6591234003', live.virtualNumber))?.bookingId, live.bookingId);
    await api(stack, 'POST', `/v1/bookings/${live.bookingId}/cancel`);
  });

  it('never releases a run the listing does not show yet: it asks Temporal, which says it runs', async () => {
    const live = await createBooking('+6591234005', '+6598764005');
    // As if visibility lagged behind a run that has just started: list another task queue.
    const report = await reconcilePairings(
      { holdings, allocations: leases, temporal: stack.temporal, log: silent },
      { taskQueue: uniqueId('not-listed') },
    );
    assert.ok(!report.released.includes(live.bookingId));
    assert.ok(report.described >= 1);
    assert.equal((await routes.findRoute('+6591234005', live.virtualNumber))?.bookingId, live.bookingId);
    await api(stack, 'POST', `/v1/bookings/${live.bookingId}/cancel`);
  });

  it('gives back a claim a late attempt left on another number, and deletes old release markers', async () => {
    const live = await createBooking('+6591234006', '+6598764006');
    const lease = await leases.findLease(live.bookingId);
    assert.ok(lease);
    const stray = live.virtualNumber === '+6560004006' ? '+6560004005' : '+6560004006';
    await leases.claim({
      holder: lease.holder,
      party: lease.parties[0],
      otherParty: lease.parties[1],
      virtualNumber: stray,
    });
    // A booking that released and ended long ago leaves its marker.
    const ended = { bookingId: uniqueId('ended'), run: 'ended-run', runStartedAt: Date.now() - 3_600_000 };
    await leases.release(ended);

    const report = await reconcilePairings(
      { holdings, allocations: leases, temporal: stack.temporal, log: silent },
      { taskQueue: stack.config.temporalTaskQueue, strayClaimMs: 0, releasedMarkerMs: 0 },
    );
    assert.equal(report.strayClaims, 1);
    assert.ok(report.markersRemoved >= 1, "the ended booking's marker, and those of bookings cancelled above");
    assert.equal(await routes.findRoute(lease.parties[0].number, stray), null);
    assert.equal((await routes.findRoute(lease.parties[0].number, live.virtualNumber))?.bookingId, live.bookingId);
    assert.equal(await leases.findLease(ended.bookingId), null);
    await api(stack, 'POST', `/v1/bookings/${live.bookingId}/cancel`);
  });

  it('runs as a Temporal Schedule that operators can see, and ensuring it twice is harmless', async () => {
    const scheduleId = uniqueId('reconciliation-schedule');
    const options = {
      taskQueue: stack.config.temporalTaskQueue,
      every: '10m',
      logger: createLogger({ level: 'silent' }),
      scheduleId,
    };
    await ensurePairingReconciliation(stack.temporal, options);
    await ensurePairingReconciliation(stack.temporal, { ...options, every: '5m' });
    const handle = stack.temporal.schedule.getHandle(scheduleId);
    const description = await handle.describe();
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal(
      description.action.type === 'startWorkflow' && description.action.workflowType,
      'reconcilePairingsWorkflow',
    );
    assert.equal(description.spec.intervals?.[0]?.every, 5 * 60 * 1000);
    await handle.delete();
  });
});
