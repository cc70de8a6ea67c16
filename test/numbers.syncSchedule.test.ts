import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  ScheduleNotFoundError,
  WorkflowFailedError,
  type ScheduleHandle,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createLogger } from '../src/logging/logger';
import { ensureNumberSync } from '../src/temporal/schedules';
import { startFake8x8, type Fake8x8 } from '../harness/fake8x8';
import { api, eventually, startStack, uniqueId, type Stack } from '../harness/stack';

// The number sync as the worker runs it: a Temporal Schedule that starts numberSyncWorkflow, whose activity
// reads the subaccount's numbers from (a fake of) 8x8 and applies them to the pool.

const logger = createLogger({ level: 'silent' });

describe('the number sync schedule', () => {
  let fake: Fake8x8;
  let stack: Stack;
  let scheduleId: string;
  let handle: ScheduleHandle;

  before(async () => {
    fake = await startFake8x8();
    stack = await startStack({
      env: { EIGHTX8_API_KEY: fake.apiKey, EIGHTX8_SUBACCOUNT_ID: fake.subAccountId, EIGHTX8_BASE_URL: fake.baseUrl },
    });
  });
  beforeEach(() => {
    scheduleId = uniqueId('number-sync');
    handle = stack.temporal.schedule.getHandle(scheduleId);
  });
  afterEach(async () => {
    await handle.delete().catch(() => undefined);
    assert.deepEqual(fake.specViolations, []);
    fake.reset();
  });
  after(async () => {
    await stack.stop();
    await fake.close();
  });

  const schedule = (options: { every?: string; enabled?: boolean } = {}) =>
    ensureNumberSync(stack.temporal, {
      taskQueue: stack.config.temporalTaskQueue,
      every: options.every ?? stack.config.numberSyncEvery,
      enabled: options.enabled ?? true,
      logger,
      scheduleId,
    });

  /** Runs the schedule now: the workflow it started. */
  async function startNow(): Promise<WorkflowHandle> {
    await handle.trigger();
    const described = await eventually(
      () => handle.describe(),
      (d) => d.info.recentActions.length > 0,
    );
    return stack.temporal.workflow.getHandle(described.info.recentActions[0]!.action.workflow.workflowId);
  }

  /** Runs the schedule now and waits for the workflow it started. */
  async function runNow(): Promise<unknown> {
    return (await startNow()).result();
  }

  /** The attempt of the sync activity that completed the run. */
  async function completedAttempt(workflow: WorkflowHandle): Promise<number | null | undefined> {
    const { events } = await workflow.fetchHistory();
    return events?.find((event) => event.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes
      ?.attempt;
  }

  it('is created hourly by default, and a second start with another interval updates it', async () => {
    await schedule();
    const first = await handle.describe();
    assert.equal(first.spec.intervals?.[0]?.every, 60 * 60 * 1000);
    assert.equal(first.action.type, 'startWorkflow');
    assert.equal(first.action.workflowType, 'numberSyncWorkflow');
    assert.equal(first.action.taskQueue, stack.config.temporalTaskQueue);

    await schedule({ every: '15m' });
    assert.equal((await handle.describe()).spec.intervals?.[0]?.every, 15 * 60 * 1000);
  });

  it("a run pulls the subaccount's numbers into the pool and returns what it changed", async () => {
    await api(stack, 'POST', '/v1/numbers', { number: '+6560000009' });
    fake.numbers = [
      { msisdn: '6560000001', operationalStatus: 'Active' },
      { msisdn: '+6560000002', operationalStatus: 'Inactive' },
      {
        msisdn: '6560000003',
        operationalStatus: 'Active',
        numberHealth: { isHealthy: false, status: 'UNREACHABLE', lastCheckedTime: '2024-05-16T00:00:00Z' },
      },
    ];
    await schedule();
    const result = (await runNow()) as { added: string[]; summary: string };
    assert.deepEqual(result.added, ['+6560000001']);
    assert.equal(result.summary, 'added 1, changed 0, draining 1, unchanged 0, not added 2');
    const numbers = await api(stack, 'GET', '/v1/numbers');
    assert.deepEqual(
      numbers.body.numbers.map((n: { number: string; status: string }) => [n.number, n.status]),
      [
        ['+6560000001', 'active'],
        ['+6560000009', 'draining'],
      ],
    );
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]?.authorization, `Bearer ${fake.apiKey}`);
  });

  it('a run that 8x8 refuses (401) fails at once with what 8x8 answered, and is not retried', async () => {
    fake.force({ status: 401, body: { statusCode: 401, statusMessage: 'API key not found or invalid' } });
    await schedule();
    const failure = await runNow().then(
      () => assert.fail('the run should fail'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    const cause = failure.cause?.cause;
    assert.ok(cause instanceof ApplicationFailure, String(failure.cause));
    assert.equal(cause.type, 'eightbyeight_refused');
    assert.match(cause.message, /8x8 answered 401 .*API key not found or invalid/);
    assert.equal(fake.requests.length, 1);
  });

  it('a run that 8x8 rate-limits (429) is tried again when Retry-After says, and then pulls the numbers in', async () => {
    fake.force({ status: 429, headers: { 'retry-after': '1' } });
    fake.numbers = [{ msisdn: '6560000021', operationalStatus: 'Active' }];
    await schedule();
    const workflow = await startNow();
    const result = (await workflow.result()) as { added: string[] };
    assert.deepEqual(result.added, ['+6560000021']);
    assert.equal(fake.requests.length, 2);
    assert.equal(await completedAttempt(workflow), 2);
  });

  it('a run that 8x8 rate-limits for longer waits as long as 8x8 asked before its next attempt', async () => {
    fake.force({ status: 429, headers: { 'retry-after': '600' } });
    await schedule();
    const workflow = await startNow();
    try {
      const described = await eventually(
        () => workflow.describe(),
        (d) => (d.raw.pendingActivities?.[0]?.attempt ?? 0) >= 2,
      );
      const pending = described.raw.pendingActivities![0]!;
      // (The failure's message is encrypted, with every payload; its type is not.)
      assert.equal(pending.lastFailure?.applicationFailureInfo?.type, 'eightbyeight_rate_limited');
      const waitSeconds =
        Number(pending.nextAttemptScheduleTime?.seconds ?? 0) - Number(pending.lastAttemptCompleteTime?.seconds ?? 0);
      assert.ok(waitSeconds >= 599 && waitSeconds <= 601, `next attempt ${waitSeconds} s after the 429`);
      assert.equal(fake.requests.length, 1);
    } finally {
      await workflow.terminate('the test has seen the wait');
    }
  });

  it("one request per attempt: 8x8's 5xx answers are retried by the workflow's retry policy alone", async () => {
    fake.force({ status: 503, headers: { 'retry-after': '1' } }, 2);
    fake.numbers = [{ msisdn: '6560000001', operationalStatus: 'Active' }];
    await schedule();
    const workflow = await startNow();
    await workflow.result();
    assert.equal(fake.requests.length, 3);
    assert.equal(await completedAttempt(workflow), 3);
  });

  it('without 8x8 credentials no schedule is created, and one left from before is paused until they are back', async () => {
    await schedule({ enabled: false });
    await assert.rejects(handle.describe(), ScheduleNotFoundError);

    await schedule();
    await schedule({ enabled: false });
    const paused = await handle.describe();
    assert.equal(paused.state.paused, true);
    assert.match(paused.state.note ?? '', /no 8x8 credentials/);

    await schedule();
    assert.equal((await handle.describe()).state.paused, false);
  });

  it('a schedule an operator paused stays paused when the worker starts again', async () => {
    await schedule();
    await handle.pause('paused by an operator');
    await schedule();
    assert.equal((await handle.describe()).state.paused, true);
  });
});
