import { proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities } from '../activities/retention';

const { deleteExpiredCallRecords } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
});

/**
 * Deletes call sessions and call events older than the retention period. Started by the
 * `maskline-call-record-retention` schedule, which carries the period as its argument.
 */
export async function callRecordRetentionWorkflow(retentionDays: number) {
  return deleteExpiredCallRecords(retentionDays);
}
