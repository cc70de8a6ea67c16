import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../src/logging/logger';
import { ensureCallRecordRetention } from '../src/temporal/schedules';
import { bookingWorkflowId } from '../src/bookings/contract';
import { callReceived, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { findPhoneNumber } from '../harness/privacy';
import { CapturedLogs, api, eventually, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

const RIDER = '+6591230001';
const DRIVER = '+6598760001';
const DAY_MS = 24 * 60 * 60 * 1000;

describe('retention of pairing and call records', () => {
  let stack: Stack;
  const logger = createLogger({ level: 'silent', destination: new CapturedLogs() });

  before(async () => {
    stack = await startStack();
    for (const number of ['+6560007001', '+6560007002']) await api(stack, 'POST', '/v1/numbers', { number });
  });
  after(() => stack.stop());

  async function bookingWithACall(bookingId: string) {
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: DRIVER },
      ],
      gracePeriodSeconds: 0,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const virtualNumber: string = created.body.virtualNumber;
    const sessionId = uniqueId('session');
    await webhook(stack, '/call-action', callReceived(RIDER, virtualNumber, sessionId));
    await webhook(
      stack,
      '/call-status',
      callStatus({ sessionId, caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' }),
    );
    await webhook(
      stack,
      '/session-summary',
      sessionSummary({
        sessionId,
        caller: RIDER,
        virtualNumber,
        callee: DRIVER,
        sessionStatus: 'COMPLETED',
        durationSeconds: 12,
      }),
    );
    await eventually(
      () => stack.database.collections.callSessions.countDocuments({ bookingId }),
      (count) => count === 1,
    );
    return { virtualNumber, sessionId };
  }

  it('deletes the pairing (claims and lease) when the booking releases its number', async () => {
    const bookingId = uniqueId('released');
    await bookingWithACall(bookingId);
    const { claims, leases } = stack.database.collections;
    assert.equal(await claims.countDocuments({ bookingId }), 2);
    assert.equal(await leases.countDocuments({ _id: bookingId }), 1);

    assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/complete`)).status, 202);
    await eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (answer) => answer.body.status === 'completed' && answer.body.endedAt !== null,
    );
    assert.equal(await claims.countDocuments({ bookingId }), 0);
    // The lease stays as a marker that the booking released, with no party's number in it.
    assert.deepEqual(Object.keys((await leases.findOne({ _id: bookingId })) ?? {}).sort(), [
      '_id',
      'createdAt',
      'expiresAt',
      'releasedAt',
      'run',
      'runStartedAt',
      'status',
      'virtualNumber',
    ]);
    const left = JSON.stringify([...(await claims.find({}).toArray()), ...(await leases.find({}).toArray())]);
    assert.equal(findPhoneNumber(left, RIDER), null);
  });

  it('keeps call sessions and call events with masked numbers only', async () => {
    const bookingId = uniqueId('masked');
    await bookingWithACall(bookingId);
    await eventually(
      () => stack.database.collections.callEvents.countDocuments({ bookingId }),
      (count) => count === 2,
    );
    const sessions = await stack.database.collections.callSessions.find({ bookingId }).toArray();
    const events = await stack.database.collections.callEvents.find({ bookingId }).toArray();
    assert.equal(sessions[0]?.callerMasked, '+65****0001');
    for (const party of [RIDER, DRIVER]) {
      assert.equal(findPhoneNumber(JSON.stringify(sessions), party), null);
      assert.equal(findPhoneNumber(JSON.stringify(events), party), null);
    }
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
  });

  it('a schedule deletes call records older than the retention period and keeps newer ones', async () => {
    const { callSessions, callEvents } = stack.database.collections;
    const bookingId = uniqueId('aged');
    const old = new Date(Date.now() - 91 * DAY_MS);
    const recent = new Date(Date.now() - 89 * DAY_MS);
    const session = (id: string, startedAt: Date) => ({
      _id: id,
      bookingId,
      virtualNumber: '+6560007001',
      callerRole: 'rider',
      callerMasked: '+65****0001',
      startedAt,
    });
    const event = (id: string, receivedAt: Date) => ({
      _id: id,
      kind: 'summary' as const,
      sessionId: id,
      bookingId,
      receivedAt,
      delivered: true,
      detail: {},
    });
    await callSessions.insertMany([session(`${bookingId}-old`, old), session(`${bookingId}-recent`, recent)]);
    await callEvents.insertMany([event(`${bookingId}-old`, old), event(`${bookingId}-recent`, recent)]);

    const scheduleId = uniqueId('retention');
    const taskQueue = stack.config.temporalTaskQueue;
    // Created, then brought to the configured period by a second worker start: idempotent.
    await ensureCallRecordRetention(stack.temporal, { taskQueue, retentionDays: 30, logger, scheduleId });
    await ensureCallRecordRetention(stack.temporal, { taskQueue, retentionDays: 90, logger, scheduleId });
    const handle = stack.temporal.schedule.getHandle(scheduleId);
    try {
      const description = await handle.describe();
      assert.equal(description.action.type, 'startWorkflow');
      assert.deepEqual(description.action.type === 'startWorkflow' && description.action.args, [90]);

      await handle.trigger();
      await eventually(
        () => callSessions.countDocuments({ bookingId }),
        (count) => count === 1,
      );
      assert.deepEqual(
        (await callSessions.find({ bookingId }).toArray()).map((doc) => doc._id),
        [`${bookingId}-recent`],
      );
      assert.deepEqual(
        (await callEvents.find({ bookingId }).toArray()).map((doc) => doc._id),
        [`${bookingId}-recent`],
      );
    } finally {
      await handle.delete();
    }
  });

  it('keeps a call event its booking has not been told of, however old, and deletes it once it has been', async () => {
    const { callEvents } = stack.database.collections;
    const bookingId = uniqueId('undelivered');
    const old = new Date(Date.now() - 200 * DAY_MS);
    const event = (id: string, delivered: boolean) => ({
      _id: `${bookingId}-${id}`,
      kind: 'status' as const,
      sessionId: `${bookingId}-${id}`,
      bookingId,
      receivedAt: old,
      delivered,
      detail: {},
    });
    await callEvents.insertMany([event('pending', false), event('delivered', true)]);

    const scheduleId = uniqueId('retention');
    await ensureCallRecordRetention(stack.temporal, {
      taskQueue: stack.config.temporalTaskQueue,
      retentionDays: 90,
      logger,
      scheduleId,
    });
    const handle = stack.temporal.schedule.getHandle(scheduleId);
    try {
      const runRetention = async () => {
        const runs = (await handle.describe()).info.recentActions.length;
        await handle.trigger();
        await eventually(
          async () => (await handle.describe()).info.recentActions.length,
          (count) => count > runs,
        );
        const started = (await handle.describe()).info.recentActions.at(-1)!.action.workflow;
        await stack.temporal.workflow.getHandle(started.workflowId, started.firstExecutionRunId).result();
      };
      await runRetention();
      assert.deepEqual(
        (await callEvents.find({ bookingId }).toArray()).map((doc) => doc._id),
        [`${bookingId}-pending`],
      );

      await callEvents.updateOne({ _id: `${bookingId}-pending` }, { $set: { delivered: true } });
      await runRetention();
      assert.equal(await callEvents.countDocuments({ bookingId }), 0);
    } finally {
      await handle.delete();
    }
  });
});

describe('erasing a finished booking: DELETE /v1/bookings/{bookingId}/data', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
    await api(stack, 'POST', '/v1/numbers', { number: '+6560007101' });
  });
  after(() => stack.stop());

  it('refuses while the booking is live, then erases its call records and workflow history once it has ended', async () => {
    const bookingId = uniqueId('erase');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: DRIVER },
      ],
    });
    assert.equal(created.status, 201);
    const virtualNumber: string = created.body.virtualNumber;
    const sessionId = uniqueId('session');
    await webhook(stack, '/call-action', callReceived(RIDER, virtualNumber, sessionId));
    await webhook(
      stack,
      '/session-summary',
      sessionSummary({
        sessionId,
        caller: RIDER,
        virtualNumber,
        callee: DRIVER,
        sessionStatus: 'COMPLETED',
        durationSeconds: 3,
      }),
    );
    await eventually(
      () => stack.database.collections.callSessions.countDocuments({ bookingId }),
      (count) => count === 1,
    );

    const live = await api(stack, 'DELETE', `/v1/bookings/${bookingId}/data`);
    assert.equal(live.status, 409);
    assert.equal(live.body.error.code, 'booking_live');

    assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`)).status, 202);
    const handle = stack.temporal.workflow.getHandle(bookingWorkflowId(bookingId));
    await handle.result();

    const erased = await api(stack, 'DELETE', `/v1/bookings/${bookingId}/data`);
    assert.equal(erased.status, 202, JSON.stringify(erased.body));
    assert.deepEqual(erased.body, {
      bookingId,
      erased: { callSessions: 1, callEvents: 1, workflowRuns: 1, endedPairings: 0 },
    });
    assert.equal(await stack.database.collections.callSessions.countDocuments({ bookingId }), 0);
    assert.equal(await stack.database.collections.callEvents.countDocuments({ bookingId }), 0);
    // Temporal deletes the history in the background: seconds to a minute on the dev server.
    await eventually(
      () =>
        handle.fetchHistory().then(
          () => 'still there',
          (error: Error) => `${error.name}: ${error.message}`,
        ),
      (outcome) => /not found/i.test(outcome),
      90_000,
    );
    const afterwards = await api(stack, 'GET', `/v1/bookings/${bookingId}`);
    assert.equal(afterwards.status, 404);

    const again = await api(stack, 'DELETE', `/v1/bookings/${bookingId}/data`);
    assert.equal(again.status, 404);
  });

  it('answers 404 for a booking it never had', async () => {
    const unknown = await api(stack, 'DELETE', `/v1/bookings/${uniqueId('never')}/data`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'booking_not_found');
  });

  it('requires the API key', async () => {
    const answer = await api(stack, 'DELETE', `/v1/bookings/${uniqueId('any')}/data`, undefined, '');
    assert.equal(answer.status, 401);
  });
});
