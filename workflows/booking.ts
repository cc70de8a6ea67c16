import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { BookingActivities } from '../activities/booking';
import type { BookingRequest } from '../src/domain/booking';
import { BookingState, type CarriedBooking } from './bookingState';
import { BookingFailure, type BookingView, type RefusalReason } from '../src/bookings/contract';

// Allocation gives up after two minutes so the platform hears "try again" rather than waiting forever. It runs
// as a local activity, in the workflow task that asked for it: a booking's creation is then one workflow task
// and no activity task, which halves Temporal's work per booking. This is as safe as an activity because an
// attempt is idempotent for its run (claims and the lease name the run that holds them): an attempt on a worker
// that died is re-run when the workflow task is retried, and finds what it already holds.
// A booking cancelled mid-allocation waits for the attempt under way to finish before it gives back what that
// attempt holds: an attempt left running would write its pairing after the release.
const allocation = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '5 seconds' },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
} as const;
const locally = proxyLocalActivities<BookingActivities>(allocation);
// Bookings started before allocation moved into a local activity replay their activity; the heartbeat lets an
// attempt on a killed worker be retried within seconds, not at its 10 s timeout.
const { allocateVirtualNumber } = proxyActivities<BookingActivities>({ ...allocation, heartbeatTimeout: '3 seconds' });

// Giving the number back must always happen, so these retry for as long as it takes; the interval stays short so
// that a release held up by a worker or store outage completes within seconds of its end.
const { markCompleting, releaseVirtualNumber } = proxyActivities<BookingActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/**
 * Past this many events (or when Temporal suggests it) a booking continues in a new run, carrying its state: a
 * booking with many calls, each a few signals, must never reach Temporal's history limit, which would terminate it
 * without giving its number back.
 */
const HISTORY_EVENTS_BEFORE_CONTINUING = 2_000;

/**
 * An ended booking waits this long for the platform to take its last events, and hands what is still owed to an
 * events workflow after that. A refused one waits less: until its run fails, a retry of its bookingId joins it.
 */
const EVENTS_SETTLE_MS = 30_000;
const REFUSED_EVENTS_SETTLE_MS = 3_000;

/**
 * One booking's story: allocate a virtual number, hold the pairing while the booking is live, then give the
 * number back — after a grace period on completion, at once on cancellation, or when the booking expires.
 *
 * Changing what this function does to a booking already running breaks its replay: such a change goes behind
 * `patched()` (see test/workflows.replay.test.ts, which replays recorded histories of every workflow).
 */
export async function bookingWorkflow(request: BookingRequest, carried?: CarriedBooking): Promise<BookingView> {
  const booking = new BookingState(request, carried);
  booking.handleMessages();
  booking.events.start();

  if (!carried) {
    booking.publishStatus();
    const allocation = await allocate(booking);
    if (allocation.outcome === 'refused') return refuse(booking, allocation.reason);
    booking.activate(allocation.virtualNumber, allocation.pin);
  }
  booking.publishStatus();

  let continuing = false;
  try {
    continuing = await holdUntilEnded(booking);
  } catch (error) {
    if (isCancellation(error)) booking.end('cancelled');
    throw error;
  } finally {
    if (!continuing) {
      await CancellationScope.nonCancellable(async () => {
        await release(booking);
        await booking.events.finish(EVENTS_SETTLE_MS);
      });
    }
  }

  await condition(allHandlersFinished);
  if (continuing) return continueAsNew<typeof bookingWorkflow>(request, booking.carryOver());
  return booking.view();
}

/** Allocation, or its refusal. Cancelled by an operator meanwhile, whatever the attempt claimed is given back. */
async function allocate(booking: BookingState) {
  try {
    return patched('allocate-in-a-local-activity')
      ? await locally.allocateVirtualNumber(booking.request, booking.holder)
      : await allocateVirtualNumber(booking.request, booking.holder);
  } catch (error) {
    // The attempt may also have failed or timed out meanwhile: the cancellation is what happened.
    if (isCancellation(error) || CancellationScope.current().consideredCancelled) {
      booking.end('cancelled');
      await CancellationScope.nonCancellable(() => releaseVirtualNumber(booking.holder));
      throw isCancellation(error) ? error : new CancelledFailure('booking cancelled during allocation');
    }
    return { outcome: 'refused', reason: BookingFailure.allocationFailed } as const;
  }
}

/**
 * Waits while the booking is live: until it is completed (then through the grace period, during which calls still
 * connect and a cancellation ends it early), cancelled or expired. True when it goes on in a new run instead.
 */
async function holdUntilEnded(booking: BookingState): Promise<boolean> {
  if (booking.status === 'active') {
    const closed = await condition(() => booking.closeRequest !== null || historyIsLong(), booking.msUntilExpiry());
    if (!closed) {
      booking.end('expired');
      return false;
    }
    if (booking.closeRequest === null) return true;
    if (booking.closeRequest === 'cancel') return false;
    booking.startGrace();
    booking.publishStatus();
    await markCompleting(booking.holder);
  }
  if (booking.status === 'completing') {
    const cancelled = await condition(
      () => booking.closeRequest === 'cancel' || historyIsLong(),
      booking.msUntilGraceEnds(),
    );
    if (!cancelled) {
      booking.end('completed');
      return false;
    }
    return booking.closeRequest !== 'cancel';
  }
  return false;
}

function historyIsLong(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_BEFORE_CONTINUING;
}

async function release(booking: BookingState): Promise<void> {
  await releaseVirtualNumber(booking.holder);
  booking.numberGivenBack();
  booking.publishStatus();
}

/** Failing the run (rather than completing it) lets the platform retry the same bookingId later. */
async function refuse(booking: BookingState, reason: RefusalReason): Promise<never> {
  booking.refuse(reason);
  // A failed attempt may have claimed part of a pairing before it gave up. (A refusal ends the run at once, so that
  // the platform's retry of the same bookingId starts a new run rather than joining this one; should an attempt
  // that timed out still record something afterwards, the reconciler gives it back.)
  if (reason === BookingFailure.allocationFailed) await releaseVirtualNumber(booking.holder);
  booking.numberReleased = true;
  booking.publishStatus();
  await booking.events.finish(REFUSED_EVENTS_SETTLE_MS);
  await condition(allHandlersFinished);
  throw ApplicationFailure.create({
    type: reason,
    message: `booking ${booking.request.bookingId} refused: ${reason}`,
    nonRetryable: true,
  });
}
