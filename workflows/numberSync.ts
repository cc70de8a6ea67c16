import { proxyActivities } from '@temporalio/workflow';
import type { NumberSyncActivities } from '../activities/numberSync';

// The client already retries 8x8's 5xx and network failures within the attempt; Temporal tries a few more times
// over a few minutes, and after that the next scheduled run picks the work up again. Wrong credentials are not
// retried (the activity marks them non-retryable).
const { syncNumberPool } = proxyActivities<NumberSyncActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '15 seconds', backoffCoefficient: 2, maximumAttempts: 4 },
});

/**
 * Brings the number pool in line with the 8x8 subaccount's virtual numbers: new Active numbers become
 * allocatable, numbers that are not Active or not healthy stop taking bookings, numbers gone from 8x8 drain.
 * Started by the `maskline-number-sync` schedule; its result lists what changed.
 */
export async function numberSyncWorkflow() {
  return syncNumberPool();
}
