import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { allocateVirtualNumber as allocate } from '../src/domain/allocation';
import { bookingWorkflowId } from '../workflows/messages';
import type { BookingRequest } from '../src/domain/booking';
import type { Database } from '../src/store/database';
import type { LeaseStore } from '../src/store/leases';

export type AllocationResult =
  { outcome: 'allocated'; virtualNumber: string } | { outcome: 'refused'; reason: 'no_number_available' };

/**
 * The booking workflow's side effects: thin adapters over the allocation rules and the store. Each one is
 * idempotent, because Temporal retries them.
 */
export function createBookingActivities(deps: { leases: LeaseStore; database: Database }) {
  return {
    async allocateVirtualNumber(request: BookingRequest): Promise<AllocationResult> {
      // Stop claiming two seconds before this attempt times out, so it never overlaps its retry.
      const { startToCloseTimeoutMs, attempt } = Context.current().info;
      const result = await allocate(request, deps.leases, Math.random, {
        claimDeadline: Date.now() + startToCloseTimeoutMs - 2_000,
        // Only a retry can find claims an earlier attempt of this booking left behind.
        resumeInterrupted: attempt > 1,
      });
      // Only the VN goes back into the workflow's history; the parties are already in its input.
      return result.outcome === 'allocated'
        ? { outcome: 'allocated', virtualNumber: result.lease.virtualNumber }
        : { outcome: 'refused', reason: result.reason };
    },

    async markCompleting(bookingId: string): Promise<void> {
      await deps.leases.markCompleting(bookingId);
    },

    async releaseVirtualNumber(bookingId: string, virtualNumber: string | null): Promise<void> {
      await deps.leases.release(bookingId, virtualNumber);
    },

    /**
     * Releases every pairing whose booking workflow is not running. A workflow that is running, even one still
     * allocating, is left alone: only its own release may give its number back.
     */
    async reconcilePairings(): Promise<{ checked: number; orphaned: number; released: string[] }> {
      const { client } = Context.current();
      const holders = await deps.leases.bookingsHoldingNumbers();
      const released: string[] = [];
      for (const { bookingId, virtualNumber } of holders) {
        Context.current().heartbeat(bookingId);
        let running: boolean;
        try {
          const description = await client.workflow.getHandle(bookingWorkflowId(bookingId)).describe();
          running = description.status.name === 'RUNNING';
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          running = false;
        }
        if (running) continue;
        await deps.leases.release(bookingId, virtualNumber);
        released.push(bookingId);
      }
      Context.current().log.info('pairing reconciliation done', { checked: holders.length, orphaned: released.length });
      return { checked: holders.length, orphaned: released.length, released };
    },

    async storeRoundTrip(token: string): Promise<string> {
      const probes = deps.database.db.collection<{ _id: string; writtenAt: Date }>('wiringProbes');
      await probes.updateOne({ _id: token }, { $set: { writtenAt: new Date() } }, { upsert: true });
      const read = await probes.findOne({ _id: token });
      return read ? `stored ${read._id}` : 'missing';
    },
  };
}

export type BookingActivities = ReturnType<typeof createBookingActivities>;
