import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../src/logging/logger';
import { LeaseStore } from '../src/store/leases';
import { ensurePairingReconciliation } from '../src/temporal/schedules';
import { reconcilePairingsWorkflow } from '../workflows/maintenance';
import { api, startStack, uniqueId, type Stack } from './support/stack';

describe('pairing reconciliation', () => {
  let stack: Stack;
  let leases: LeaseStore;

  before(async () => {
    stack = await startStack();
    leases = new LeaseStore(stack.database.collections);
    for (const number of ['+6560004001', '+6560004002']) await api(stack, 'POST', '/v1/numbers', { number });
  });
  after(() => stack.stop());

  it('releases a pairing whose workflow no longer runs, reports it, and leaves live bookings alone', async () => {
    const live = uniqueId('live');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId: live,
      parties: [
        { role: 'rider', number: '+6591234001' },
        { role: 'driver', number: '+6598764001' },
      ],
    });
    assert.equal(created.status, 201);

    // A pairing left behind by a booking whose workflow is gone (terminated, or its history lost).
    const orphan = uniqueId('orphan');
    const parties = [
      { role: 'rider', number: '+6591234002' },
      { role: 'driver', number: '+6598764002' },
    ] as const;
    await leases.claim({ bookingId: orphan, party: parties[0], otherParty: parties[1], virtualNumber: '+6560004002' });
    await leases.claim({ bookingId: orphan, party: parties[1], otherParty: parties[0], virtualNumber: '+6560004002' });
    await leases.recordLease(
      { bookingId: orphan, virtualNumber: '+6560004002', parties: [parties[0], parties[1]] },
      {
        bookingId: orphan,
        parties: [parties[0], parties[1]],
        expiresInSeconds: 60,
        gracePeriodSeconds: 0,
        geoMatch: 'prefer',
      },
    );
    assert.ok(await leases.findRoute('+6591234002', '+6560004002'));

    const report = await stack.temporal.workflow.execute(reconcilePairingsWorkflow, {
      workflowId: uniqueId('reconcile'),
      taskQueue: stack.config.temporalTaskQueue,
    });
    assert.deepEqual(report.released, [orphan]);
    assert.equal(report.orphaned, 1);
    assert.equal(report.checked, 2);
    assert.equal(await leases.findRoute('+6591234002', '+6560004002'), null);
    assert.ok(await leases.findRoute('+6591234001', created.body.virtualNumber), 'the live booking still routes');
    await api(stack, 'POST', `/v1/bookings/${live}/cancel`);
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
