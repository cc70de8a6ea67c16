import { Context } from '@temporalio/activity';
import { AllocationContention, allocateVirtualNumber as allocate, type Holder } from '../src/domain/allocation';
import type { BookingRequest } from '../src/domain/booking';
import { allocationAttempts, allocationContention, allocationDuration } from '../src/metrics/metrics';
import type { MongoAllocationStore } from '../src/store/allocationStore';
import type { EndedPairings } from '../src/store/endedPairings';

export type AllocationResult =
  { outcome: 'allocated'; virtualNumber: string } | { outcome: 'refused'; reason: 'no_number_available' };

/**
 * A booking workflow started before holders carried their run calls these with a bookingId alone: its claims and
 * lease have no run either, and are matched by bookingId.
 */
function holderOf(holderOrBookingId: Holder | string): Holder {
  return typeof holderOrBookingId === 'string'
    ? { bookingId: holderOrBookingId, run: '', runStartedAt: 0 }
    : holderOrBookingId;
}

/**
 * Stops the attempt at the next store step once Temporal has given up on it (timed out, cancelled, the worker
 * shutting down), and tells Temporal it is alive, so that a killed worker's attempt is retried within the
 * heartbeat timeout rather than the whole attempt's.
 */
function checkpoint(): void {
  const context = Context.current();
  // A local activity cannot heartbeat: it lives and dies with its workflow task, on its worker.
  if (!context.info.isLocal) context.heartbeat();
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason ?? new Error('attempt cancelled');
}

/**
 * The booking workflow's side effects: thin adapters over the allocation rules and the store. Each one is
 * idempotent, because Temporal retries them.
 */
export function createBookingActivities(deps: {
  allocations: MongoAllocationStore;
  endedPairings?: Pick<EndedPairings, 'keepForRun'>;
}) {
  return {
    async allocateVirtualNumber(request: BookingRequest, holder?: Holder): Promise<AllocationResult> {
      // Stop claiming two seconds before this attempt times out, so it never overlaps its retry.
      const { startToCloseTimeoutMs } = Context.current().info;
      const stop = allocationDuration.startTimer();
      const result = await allocate(request, holder ?? holderOf(request.bookingId), deps.allocations, Math.random, {
        claimDeadline: Date.now() + startToCloseTimeoutMs - 2_000,
        checkpoint,
      }).then(
        (outcome) => {
          allocationAttempts.inc({ result: outcome.outcome });
          return outcome;
        },
        (error: unknown) => {
          const contention = error instanceof AllocationContention;
          if (contention) allocationContention.inc();
          allocationAttempts.inc({ result: contention ? 'contention' : 'error' });
          throw error;
        },
      );
      stop();
      // Only the VN goes back into the workflow's history; the parties are already in its input.
      return result.outcome === 'allocated'
        ? { outcome: 'allocated', virtualNumber: result.lease.virtualNumber }
        : { outcome: 'refused', reason: result.reason };
    },

    async markCompleting(holder: Holder | string): Promise<void> {
      await deps.allocations.markCompleting(holderOf(holder));
    },

    async releaseVirtualNumber(holder: Holder | string): Promise<void> {
      // Kept first: the release wipes the parties from the lease. No workflow change: the activity does it.
      await deps.endedPairings?.keepForRun(holderOf(holder));
      await deps.allocations.release(holderOf(holder));
    },
  };
}

export type BookingActivities = ReturnType<typeof createBookingActivities>;
