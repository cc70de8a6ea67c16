import type { CallRecords, DeletedCallRecords } from '../store/callRecords';
import type { MongoAllocationStore } from '../store/allocationStore';
import type { EndedPairings } from '../store/endedPairings';
import type { BookingClient } from './client';
import { BookingError } from './errors';

export interface ErasedBooking {
  bookingId: string;
  erased: DeletedCallRecords & { workflowRuns: number; endedPairings?: number };
}

/**
 * Erases what is left of a finished booking: its call records in MongoDB and its workflow histories in Temporal.
 * A live booking is refused (its pairing is still needed to route calls). The store is erased first, so a
 * failure part-way leaves the workflow to be found, and the erasure to be repeated.
 */
export class BookingEraser {
  constructor(
    private readonly bookings: Pick<BookingClient, 'runs' | 'deleteRuns'>,
    private readonly callRecords: Pick<CallRecords, 'deleteOfBooking'>,
    private readonly allocations: Pick<MongoAllocationStore, 'findLease' | 'claimsOfBooking' | 'pairs'>,
    /** The pairing kept for late callers (src/store/endedPairings.ts): erased with the rest. */
    private readonly endedPairings: Pick<EndedPairings, 'deleteOfBooking'> | null = null,
  ) {}

  async erase(bookingId: string): Promise<ErasedBooking> {
    const runs = await this.bookings.runs(bookingId);
    if (runs.some((run) => run.running)) {
      throw new BookingError('booking_live', `booking ${bookingId} is live; complete or cancel it first`);
    }
    const [lease, claims] = await Promise.all([
      this.allocations.findLease(bookingId),
      this.allocations.claimsOfBooking(bookingId),
    ]);
    if ((lease && !lease.released) || claims.length > 0) {
      // Its workflow is gone but its number not yet given back: the pairing reconciliation will release it.
      throw new BookingError('booking_live', `booking ${bookingId} still holds its virtual number; try again later`);
    }
    const records = await this.callRecords.deleteOfBooking(bookingId);
    const pairings = this.endedPairings ? await this.endedPairings.deleteOfBooking(bookingId) : 0;
    // The pair's last number (prefer-sticky), if this booking was the last to write it.
    await this.allocations.pairs.forgetBooking(bookingId);
    if (runs.length === 0 && records.callSessions === 0 && records.callEvents === 0 && pairings === 0) {
      throw new BookingError('booking_not_found', `no booking ${bookingId}`);
    }
    await this.bookings.deleteRuns(
      bookingId,
      runs.map((run) => run.runId),
    );
    return {
      bookingId,
      erased: { ...records, workflowRuns: runs.length, ...(this.endedPairings ? { endedPairings: pairings } : {}) },
    };
  }
}
