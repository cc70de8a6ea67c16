import { Context } from '@temporalio/activity';
import type { CallRecords, DeletedCallRecords } from '../src/store/callRecords';
import type { EndedPairings } from '../src/store/endedPairings';
import type { PairHistory } from '../src/store/pairHistory';
import type { PinHoldings } from '../src/store/pinHoldings';
import { PIN_ATTEMPT_WINDOW_MS } from '../src/domain/pin';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The retention schedule's side effect. Idempotent: a retry finds less, or nothing, left to delete. */
export function createRetentionActivities(deps: {
  callRecords: Pick<CallRecords, 'deleteOlderThan' | 'countUndeliveredOlderThan'>;
  endedPairings?: Pick<EndedPairings, 'deleteClosed'>;
  /** The pairs' last numbers (prefer-sticky): a pair without a booking for the whole period is forgotten. */
  pairs?: Pick<PairHistory, 'deleteOlderThan'>;
  /** Callers' wrong PINs: they count for nothing once their window has passed. */
  pins?: Pick<PinHoldings, 'deleteAttemptsBefore'>;
}) {
  return {
    async deleteExpiredCallRecords(retentionDays: number): Promise<
      DeletedCallRecords & {
        callEventsKeptUndelivered: number;
        cutoff: string;
        endedPairings?: number;
        pairs?: number;
        pinAttempts?: number;
      }
    > {
      const cutoff = new Date(Date.now() - retentionDays * DAY_MS);
      const deleted = {
        ...(await deps.callRecords.deleteOlderThan(cutoff)),
        ...(deps.pairs ? { pairs: await deps.pairs.deleteOlderThan(cutoff) } : {}),
      };
      // The pairings of ended bookings whose late-call window has closed (they route nothing already).
      const endedPairings = deps.endedPairings ? await deps.endedPairings.deleteClosed() : undefined;
      const pinAttempts = deps.pins
        ? await deps.pins.deleteAttemptsBefore(new Date(Date.now() - 2 * PIN_ATTEMPT_WINDOW_MS))
        : 0;
      const callEventsKeptUndelivered = await deps.callRecords.countUndeliveredOlderThan(cutoff);
      const log = Context.current().log;
      log.info('expired call records deleted', {
        retentionDays,
        ...deleted,
        callEventsKeptUndelivered,
        endedPairings,
        pinAttempts,
      });
      if (callEventsKeptUndelivered > 0) {
        // Kept because 8x8 was told they were received; each is retried until its booking takes it or has ended.
        log.warn('call events past the retention period kept: their bookings have not been told of them yet', {
          callEventsKeptUndelivered,
        });
      }
      return {
        ...deleted,
        callEventsKeptUndelivered,
        cutoff: cutoff.toISOString(),
        ...(endedPairings !== undefined ? { endedPairings } : {}),
        ...(pinAttempts > 0 ? { pinAttempts } : {}),
      };
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
