import { Context } from '@temporalio/activity';
import {
  AllocationContention,
  AllocationFenced,
  allocateVirtualNumber as allocate,
  sameRun,
  type Holder,
} from '../src/domain/allocation';
import type { BookingRequest } from '../src/domain/booking';
import { allocationAttempts, allocationContention, allocationDuration } from '../src/metrics/metrics';
import type { MongoAllocationStore } from '../src/store/allocationStore';
import type { EndedPairings } from '../src/store/endedPairings';
import type { PinHoldings } from '../src/store/pinHoldings';

/** `pin` is set when the booking got a number of the PIN set (PIN fallback): its callers enter it. */
export type AllocationResult =
  { outcome: 'allocated'; virtualNumber: string; pin?: string } | { outcome: 'refused'; reason: 'no_number_available' };

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
  pins?: Pick<PinHoldings, 'heldBy' | 'take' | 'giveBack'>;
}) {
  /**
   * The PIN fallback, for a booking that opted in: a PIN this run holds already (a retried attempt), or, once the
   * ordinary allocation refused, a fresh one. Undefined: the ordinary outcome stands.
   */
  async function allocatePin(
    request: BookingRequest,
    holder: Holder,
    refused: boolean,
  ): Promise<AllocationResult | undefined> {
    if (request.fallback !== 'pin' || !deps.pins) return undefined;
    const held = await deps.pins.heldBy(holder);
    if (!held && !refused) return undefined;
    const holding = held ?? (await deps.pins.take(request, holder));
    if (!holding) return undefined;
    // The lease makes the booking's hold count as the ordinary ones do: a release marks it, the reconciler reads it.
    const lease = { bookingId: request.bookingId, virtualNumber: holding.virtualNumber, parties: request.parties };
    const recorded = await deps.allocations.recordLease(lease, holder, request);
    if (!sameRun(recorded.holder, holder) || recorded.released || recorded.virtualNumber !== holding.virtualNumber) {
      await deps.pins.giveBack(holder);
      throw new AllocationFenced(`booking ${holder.bookingId} holds its number otherwise, or released it`);
    }
    return { outcome: 'allocated', virtualNumber: holding.virtualNumber, pin: holding.pin };
  }

  return {
    async allocateVirtualNumber(request: BookingRequest, holder?: Holder): Promise<AllocationResult> {
      const run = holder ?? holderOf(request.bookingId);
      // Checked first: a retried attempt of a PIN booking must not take an ordinary number freed meanwhile.
      const resumed = await allocatePin(request, run, false);
      if (resumed) return resumed;
      // Stop claiming two seconds before this attempt times out, so it never overlaps its retry.
      const { startToCloseTimeoutMs } = Context.current().info;
      const stop = allocationDuration.startTimer();
      const result = await allocate(request, run, deps.allocations, Math.random, {
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
      if (result.outcome === 'allocated') return { outcome: 'allocated', virtualNumber: result.lease.virtualNumber };
      return (await allocatePin(request, run, true)) ?? { outcome: 'refused', reason: result.reason };
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
