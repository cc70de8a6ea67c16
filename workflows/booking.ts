import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BookingActivities } from '../activities';
import { isEnded, isSameBooking, type BookingRequest, type BookingStatus } from '../src/domain/booking';
import { callRecords, recordCallEvent, type CallHistory } from '../src/domain/callHistory';
import {
  BookingFailure,
  BookingStatusAttribute,
  VirtualNumberAttribute,
  bookingStateQuery,
  callEventSignal,
  closeBookingUpdate,
  confirmBookingUpdate,
  type BookingView,
  type CloseAction,
  type RefusalReason,
} from './messages';

// Allocation gives up after two minutes so the platform hears "try again" rather than waiting forever. Crashed
// workers leave claims that settle only when their own attempts are retried (after the 10 s attempt timeout),
// so the budget leaves room for several rounds of that; the platform's request gets a 503 at 10 s meanwhile and
// its retry joins the same allocation.
// A booking cancelled mid-allocation waits for the attempt under way to finish before it gives back what that
// attempt holds: an attempt left running would write its pairing after the release.
const { allocateVirtualNumber } = proxyActivities<BookingActivities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '5 seconds' },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

// Giving the number back must always happen, so these retry for as long as it takes.
const { markCompleting, releaseVirtualNumber } = proxyActivities<BookingActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * One booking's story: allocate a virtual number, hold the pairing while the booking is live, then give the
 * number back — after a grace period on completion, at once on cancellation, or when the booking expires.
 */
export async function bookingWorkflow(request: BookingRequest): Promise<BookingView> {
  const createdAt = workflowInfo().startTime;
  const expiresAt = new Date(createdAt.getTime() + request.expiresInSeconds * 1000);
  let status: BookingStatus = 'allocating';
  let virtualNumber: string | null = null;
  let refusal: RefusalReason | null = null;
  let closeRequest: CloseAction | null = null;
  let graceEndsAt: Date | null = null;
  let endedAt: Date | null = null;
  let numberReleased = false;
  let confirmations = 0;
  const calls: CallHistory = new Map();

  const view = (): BookingView => ({
    bookingId: request.bookingId,
    status,
    virtualNumber,
    parties: request.parties,
    createdAt: createdAt.toISOString(),
    expiresAt: expiresAt.toISOString(),
    gracePeriodSeconds: request.gracePeriodSeconds,
    graceEndsAt: graceEndsAt?.toISOString() ?? null,
    endedAt: endedAt?.toISOString() ?? null,
    numberReleased,
    refusal,
    calls: callRecords(calls),
  });

  const publishStatus = () =>
    upsertSearchAttributes([
      { key: BookingStatusAttribute, value: status },
      { key: VirtualNumberAttribute, value: virtualNumber ?? '' },
    ]);

  setHandler(bookingStateQuery, view);

  setHandler(
    confirmBookingUpdate,
    async () => {
      confirmations += 1;
      const first = confirmations === 1;
      await condition(() => status !== 'allocating');
      if (status === 'refused') {
        throw ApplicationFailure.create({
          type: refusal ?? BookingFailure.noNumber,
          message:
            refusal === BookingFailure.allocationFailed
              ? 'allocation failed, try again'
              : 'no virtual number is free for both parties',
          nonRetryable: true,
        });
      }
      return { created: first, booking: view() };
    },
    {
      validator: (repeat) => {
        if (!isSameBooking(request, repeat)) {
          throw ApplicationFailure.create({
            type: BookingFailure.conflict,
            message: `booking ${request.bookingId} exists with other parties`,
            nonRetryable: true,
          });
        }
      },
    },
  );

  setHandler(
    closeBookingUpdate,
    async (action) => {
      await condition(() => status !== 'allocating');
      if (action === 'cancel' && status !== 'cancelled') {
        closeRequest = 'cancel';
        status = 'cancelled';
      } else if (action === 'complete' && status === 'active') {
        closeRequest = 'complete';
        status = 'completing';
      }
      return { status };
    },
    {
      validator: (action) => {
        // Repeating the close that is already under way is harmless; anything else on an ended booking is not.
        const repeat =
          (action === 'cancel' && status === 'cancelled') || (action === 'complete' && status === 'completing');
        if ((isEnded(status) && !repeat) || (action === 'complete' && status === 'cancelled')) {
          throw ApplicationFailure.create({
            type: BookingFailure.closed,
            message: `booking ${request.bookingId} has already ended (${status})`,
            nonRetryable: true,
          });
        }
      },
    },
  );

  setHandler(callEventSignal, (event) => recordCallEvent(calls, event));

  publishStatus();
  try {
    const allocation = await allocateVirtualNumber(request);
    if (allocation.outcome === 'refused') {
      refusal = allocation.reason;
    } else {
      virtualNumber = allocation.virtualNumber;
      status = 'active';
    }
  } catch (error) {
    // Cancelled by an operator mid-allocation (the attempt may also have failed or timed out meanwhile): whatever
    // it claimed is given back before we stop.
    if (isCancellation(error) || CancellationScope.current().consideredCancelled) {
      status = 'cancelled';
      await CancellationScope.nonCancellable(() => releaseVirtualNumber(request.bookingId, null));
      throw isCancellation(error) ? error : new CancelledFailure('booking cancelled during allocation');
    }
    refusal = BookingFailure.allocationFailed;
  }

  if (refusal !== null) {
    status = 'refused';
    endedAt = new Date();
    // A failed attempt may have claimed part of a pairing before it gave up; give that back too.
    if (refusal === BookingFailure.allocationFailed) await releaseVirtualNumber(request.bookingId, null);
    numberReleased = true;
    publishStatus();
    await condition(allHandlersFinished);
    // Failing the run (rather than completing it) lets the platform retry the same bookingId later.
    throw ApplicationFailure.create({
      type: refusal,
      message: `booking ${request.bookingId} refused: ${refusal}`,
      nonRetryable: true,
    });
  }

  publishStatus();
  try {
    const closedInTime = await condition(() => closeRequest !== null, expiresAt.getTime() - Date.now());
    if (!closedInTime) {
      status = 'expired';
    } else if (closeRequest === 'complete') {
      graceEndsAt = new Date(Date.now() + request.gracePeriodSeconds * 1000);
      publishStatus();
      await markCompleting(request.bookingId);
      // Calls still connect during the grace period; a cancellation ends it early.
      const cancelledDuringGrace = await condition(() => closeRequest === 'cancel', request.gracePeriodSeconds * 1000);
      if (!cancelledDuringGrace) status = 'completed';
    }
  } catch (error) {
    if (isCancellation(error)) status = 'cancelled';
    throw error;
  } finally {
    await CancellationScope.nonCancellable(async () => {
      await releaseVirtualNumber(request.bookingId, virtualNumber);
      numberReleased = true;
      endedAt = new Date();
      publishStatus();
    });
  }

  await condition(allHandlersFinished);
  return view();
}
