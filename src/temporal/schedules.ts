import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger';
import { isTransientAnywhere } from './serviceErrors';
import { reconcilePairingsWorkflow } from '../../workflows/reconciliation';
import { numberSyncWorkflow } from '../../workflows/numberSync';
import { callRecordRetentionWorkflow } from '../../workflows/retention';

/** A periodic job of ours, kept as a Temporal Schedule so operators see and control it in the Temporal UI. */
export interface PeriodicJob<W extends Workflow> {
  scheduleId: string;
  every: string;
  action: ScheduleOptionsStartWorkflowAction<W>;
  memo?: Record<string, unknown>;
}

/**
 * Creates the schedule, or brings an existing one to this definition: every worker process calls this at
 * start, so a changed interval takes effect on the next deploy, and concurrent starts are harmless.
 */
export async function ensureSchedule<W extends Workflow>(client: Client, job: PeriodicJob<W>): Promise<void> {
  const spec = { intervals: [{ every: job.every }] };
  const policies = { overlap: 'SKIP' as const, catchupWindow: '1 minute' };
  try {
    await client.schedule.create({ scheduleId: job.scheduleId, spec, action: job.action, policies, memo: job.memo });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(job.scheduleId).update((previous) => ({
      ...previous,
      spec,
      action: job.action,
      policies: { ...previous.policies, ...policies },
    }));
  }
}

const NUMBER_SYNC_PAUSE_NOTE =
  'paused by Maskline: the worker has no 8x8 credentials (EIGHTX8_API_KEY, EIGHTX8_SUBACCOUNT_ID)';

/**
 * Keeps the number pool in step with the 8x8 subaccount, when the worker has credentials for it. Without them a
 * schedule left from before is paused rather than left to fail on every run; it resumes when they are back,
 * unless an operator paused it.
 */
export async function ensureNumberSync(
  client: Client,
  options: { taskQueue: string; every: string; enabled: boolean; logger: Logger; scheduleId?: string },
) {
  const scheduleId = options.scheduleId ?? 'maskline-number-sync';
  const handle = client.schedule.getHandle(scheduleId);
  if (!options.enabled) {
    try {
      if (!(await handle.describe()).state.paused) await handle.pause(NUMBER_SYNC_PAUSE_NOTE);
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    options.logger.info('number sync not scheduled: EIGHTX8_API_KEY and EIGHTX8_SUBACCOUNT_ID are not set');
    return;
  }
  await ensureSchedule(client, {
    scheduleId,
    every: options.every,
    action: {
      type: 'startWorkflow',
      workflowType: numberSyncWorkflow,
      workflowId: scheduleId,
      taskQueue: options.taskQueue,
      args: [],
    },
  });
  const { state } = await handle.describe();
  if (state.paused && state.note === NUMBER_SYNC_PAUSE_NOTE) await handle.unpause('8x8 credentials are set again');
  options.logger.info({ every: options.every }, 'number sync scheduled');
}

/** Finds pairings whose booking workflow no longer runs and gives their numbers back. */
export async function ensurePairingReconciliation(
  client: Client,
  options: { taskQueue: string; every: string; logger: Logger; scheduleId?: string },
) {
  const scheduleId = options.scheduleId ?? 'maskline-pairing-reconciliation';
  await ensureSchedule(client, {
    scheduleId,
    every: options.every,
    action: {
      type: 'startWorkflow',
      workflowType: reconcilePairingsWorkflow,
      workflowId: scheduleId,
      taskQueue: options.taskQueue,
      args: [],
    },
  });
  options.logger.info({ every: options.every }, 'pairing reconciliation scheduled');
}

/**
 * Deletes call sessions and call events older than the retention period, every hour. FerretDB has no TTL index,
 * hence a schedule; the period travels as the workflow's argument, so a changed setting takes effect at the next
 * worker start.
 */
export async function ensureCallRecordRetention(
  client: Client,
  options: { taskQueue: string; retentionDays: number; logger: Logger; scheduleId?: string; every?: string },
) {
  const scheduleId = options.scheduleId ?? 'maskline-call-record-retention';
  const every = options.every ?? '1h';
  await ensureSchedule(client, {
    scheduleId,
    every,
    action: {
      type: 'startWorkflow',
      workflowType: callRecordRetentionWorkflow,
      workflowId: scheduleId,
      taskQueue: options.taskQueue,
      args: [options.retentionDays],
    },
  });
  options.logger.info({ every, retentionDays: options.retentionDays }, 'call record retention scheduled');
}

/**
 * Runs `setUp` until Temporal accepts it: a refusal Temporal marks transient (busy, a deadline passed, briefly
 * unreachable) is tried again, backing off 1 s doubling to 15 s, for up to `patienceMs`; any other failure, or one
 * past that, is thrown. A worker restarted while Temporal is busy (after a crash, under load) must come back
 * rather than die on its first slow answer; one whose keys cannot read the schedules still fails at once.
 */
export async function untilAccepted(
  what: string,
  setUp: () => Promise<void>,
  logger: Logger,
  { patienceMs = 120_000, firstDelayMs = 1_000 } = {},
): Promise<void> {
  const giveUpAt = Date.now() + patienceMs;
  for (let delayMs = firstDelayMs; ; delayMs = Math.min(delayMs * 2, 15_000)) {
    try {
      return await setUp();
    } catch (error) {
      if (!isTransientAnywhere(error) || Date.now() + delayMs > giveUpAt) throw error;
      logger.warn({ err: error, retryInMs: delayMs }, `${what}: Temporal refused for now, trying again`);
      await sleep(delayMs);
    }
  }
}
