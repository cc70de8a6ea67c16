import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { EightByEightApiError } from '../src/eightbyeight/apiClient';
import { describeSyncResult, type NumberSync, type NumberSyncResult } from '../src/numbers/numberSync';

export const NumberSyncFailure = {
  notConfigured: 'eightbyeight_not_configured',
  refused: 'eightbyeight_refused',
} as const;

/**
 * The number sync schedule's side effect: read the subaccount's numbers from 8x8 and apply them to the pool.
 * Idempotent: a retry applies the same listing again and finds nothing left to change.
 */
export function createNumberSyncActivities(deps: { numberSync: NumberSync | null }) {
  return {
    async syncNumberPool(): Promise<NumberSyncResult & { summary: string }> {
      if (!deps.numberSync) {
        throw ApplicationFailure.create({
          type: NumberSyncFailure.notConfigured,
          message: 'this worker has no 8x8 credentials: set EIGHTX8_API_KEY and EIGHTX8_SUBACCOUNT_ID',
          nonRetryable: true,
        });
      }
      try {
        const result = await deps.numberSync.syncFromAccount();
        const summary = describeSyncResult(result);
        Context.current().log.info('number pool synced with 8x8', { summary });
        return { ...result, summary };
      } catch (error) {
        // A 401, 403 or 422 will not get better by asking again; an operator has to act.
        if (error instanceof EightByEightApiError && !error.transient) {
          throw ApplicationFailure.create({
            type: NumberSyncFailure.refused,
            message: error.message,
            nonRetryable: true,
          });
        }
        throw error;
      }
    },
  };
}

export type NumberSyncActivities = ReturnType<typeof createNumberSyncActivities>;
