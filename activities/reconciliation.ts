import { Context } from '@temporalio/activity';
import { reconcilePairings, type ReconciliationOptions } from '../src/bookings/reconciliation';
import type { MongoAllocationStore } from '../src/store/allocationStore';
import type { Holdings } from '../src/store/holdings';

/** The pairing reconciliation schedule's side effect (src/bookings/reconciliation.ts); each pass is idempotent. */
export function createReconciliationActivities(deps: {
  holdings: Holdings;
  allocations: MongoAllocationStore;
  reconciliation?: Partial<ReconciliationOptions>;
}) {
  return {
    /**
     * Releases what booking runs that no longer run still hold. A run that is running, even one still
     * allocating, is left alone: only its own release may give its number back.
     */
    async reconcilePairings() {
      const context = Context.current();
      return reconcilePairings(
        { holdings: deps.holdings, allocations: deps.allocations, temporal: context.client, log: context.log },
        {
          taskQueue: context.info.taskQueue,
          heartbeat: (progress) => context.heartbeat(progress),
          ...deps.reconciliation,
        },
      );
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
