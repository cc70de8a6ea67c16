import { proxyActivities } from '@temporalio/workflow';
import type { ReconciliationActivities } from '../activities/reconciliation';

const { reconcilePairings } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/**
 * The safety net under "a number taken is always given back": a booking workflow that was terminated by an
 * operator, or whose history was lost, cannot release its pairing, so this finds such pairings and releases them.
 */
export async function reconcilePairingsWorkflow() {
  return reconcilePairings();
}
