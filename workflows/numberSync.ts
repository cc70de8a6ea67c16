import { proxyActivities } from '@temporalio/workflow';
import type { NumberSyncActivities } from '../activities/numberSync';

// The activity makes one request to 8x8 per attempt, so this policy is the only retry loop: after a 5xx answer, a
// 429 or a network failure it tries again five times over about eight minutes (15 s, doubling), or when 8x8's
// Retry-After says, however long that is; after that the next scheduled run picks the work up again (the schedule
// skips its runs while this one waits). Wrong credentials are not retried (the activity marks them non-retryable).
const { syncNumberPool } = proxyActivities<NumberSyncActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '15 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 6 },
});

/**
 * Brings the number pool in line with the 8x8 subaccount's virtual numbers: new Active numbers become
 * allocatable, numbers that are not Active or not healthy stop taking bookings, numbers gone from 8x8 drain.
 * Started by the `maskline-number-sync` schedule; its result lists what changed.
 */
export async function numberSyncWorkflow() {
  return syncNumberPool();
}
