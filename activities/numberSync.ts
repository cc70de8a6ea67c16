import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { EightByEightApiError } from '../src/eightbyeight/apiClient';
import { numberSyncChanges, numberSyncLastSuccess, numberSyncRuns } from '../src/metrics/metrics';
import { describeSyncResult, type AccountSyncResult, type NumberSync } from '../src/numbers/numberSync';

export const NumberSyncFailure = {
  notConfigured: 'eightbyeight_not_configured',
  refused: 'eightbyeight_refused',
  rateLimited: 'eightbyeight_rate_limited',
  unavailable: 'eightbyeight_unavailable',
} as const;

/**
 * The number sync schedule's side effect: read the subaccount's numbers from 8x8 and apply them to the pool.
 * Idempotent: a retry applies the same listing again and finds nothing left to change. One request to 8x8 per
 * attempt: the workflow's retry policy is the only loop, and it waits as long as 8x8's Retry-After asks.
 */
export function createNumberSyncActivities(deps: { numberSync: NumberSync | null }) {
  return {
    async syncNumberPool(): Promise<AccountSyncResult & { summary: string }> {
      if (!deps.numberSync) {
        throw ApplicationFailure.create({
          type: NumberSyncFailure.notConfigured,
          message: 'this worker has no 8x8 credentials: set EIGHTX8_API_KEY and EIGHTX8_SUBACCOUNT_ID',
          nonRetryable: true,
        });
      }
      try {
        const result = await deps.numberSync.syncFromAccount();
        countSync(result);
        const summary = describeSyncResult(result);
        Context.current().log.info('number pool synced with 8x8', { summary });
        return { ...result, summary };
      } catch (error) {
        if (!(error instanceof EightByEightApiError)) {
          numberSyncRuns.inc({ result: 'error' });
          throw error;
        }
        numberSyncRuns.inc({ result: error.transient ? error.failure : 'refused' });
        // A 401, 403 or 422 will not get better by asking again; an operator has to act. A 5xx, a 429 or a
        // network failure will: another attempt, when 8x8 said, else at the policy's backoff.
        const { retryAfterMs } = error.details;
        throw ApplicationFailure.create({
          type: !error.transient
            ? NumberSyncFailure.refused
            : error.failure === 'rate_limited'
              ? NumberSyncFailure.rateLimited
              : NumberSyncFailure.unavailable,
          message: error.message,
          nonRetryable: !error.transient,
          ...(error.transient && retryAfterMs !== null ? { nextRetryDelay: retryAfterMs } : {}),
        });
      }
    },
  };
}

function countSync(result: AccountSyncResult): void {
  numberSyncRuns.inc({ result: 'success' });
  numberSyncLastSuccess.set(Date.now() / 1000);
  const changes: [string, number][] = [
    ['added', result.added.length],
    ...(['active', 'disabled', 'draining'] as const).map((to): [string, number] => [
      to,
      result.changed.filter((change) => change.to === to).length,
    ]),
    ['not_added', result.notAdded.length],
    ['skipped', result.skipped.length],
  ];
  for (const [change, count] of changes) numberSyncChanges.inc({ change }, count);
}

export type NumberSyncActivities = ReturnType<typeof createNumberSyncActivities>;
