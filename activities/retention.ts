import { Context } from '@temporalio/activity';
import type { CallRecords, DeletedCallRecords } from '../src/store/callRecords';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The retention schedule's side effect. Idempotent: a retry finds less, or nothing, left to delete. */
export function createRetentionActivities(deps: { callRecords: Pick<CallRecords, 'deleteOlderThan'> }) {
  return {
    async deleteExpiredCallRecords(retentionDays: number): Promise<DeletedCallRecords & { cutoff: string }> {
      const cutoff = new Date(Date.now() - retentionDays * DAY_MS);
      const deleted = await deps.callRecords.deleteOlderThan(cutoff);
      Context.current().log.info('expired call records deleted', { retentionDays, ...deleted });
      return { ...deleted, cutoff: cutoff.toISOString() };
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
