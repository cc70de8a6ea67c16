import {
  QueryNotRegisteredError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { bookingWorkflowId } from '../bookings/contract';
import { BookingError } from '../bookings/errors';
import { bookingEventsWorkflow } from '../../workflows/bookingEvents';
import { detailTypes, isTransientRefusal } from '../temporal/serviceErrors';
import { pendingDelivery, type BookingEventRecord } from './bookingEvents';
import {
  EVENT_NOT_FOUND,
  OUTBOX_CLOSED,
  bookingEventsQuery,
  bookingEventsWorkflowId,
  lateEventSignal,
  redeliverEventUpdate,
  type BookingEventsView,
  type LateEvent,
} from './messages';

const CALL_DEADLINE_MS = 5_000;

export class EventNotFoundError extends Error {
  override name = 'EventNotFoundError';
}

/**
 * A booking's events and their deliveries, read from whichever workflow holds its outbox: the booking's while it
 * runs, the events workflow it handed them to once it ended (which then knows more).
 */
export class BookingEventsClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** The booking's events, oldest first; null when there is no such booking. */
  list(bookingId: string): Promise<BookingEventsView | null> {
    return unavailableAsBookingError(() => this.read(bookingId));
  }

  private async read(bookingId: string): Promise<BookingEventsView | null> {
    const booking = await this.query(bookingWorkflowId(bookingId));
    if (booking === 'not_found') return null;
    if (booking === 'no_events') {
      // A booking that started before events existed: it has none.
      return {
        bookingId,
        chainId: '',
        stream: { bookingId, callbackUrl: null },
        sequence: 0,
        events: [],
        handedOffTo: null,
        open: false,
      };
    }
    if (booking.open) return booking;
    const events = await this.query(bookingEventsWorkflowId(bookingId, booking.chainId));
    return typeof events === 'string' ? booking : events;
  }

  /**
   * Sends one event again, with its id (receivers that dedupe by `webhook-id` see it once). Throws
   * BookingError('booking_not_found') or EventNotFoundError.
   */
  redeliver(bookingId: string, eventId: string): Promise<BookingEventRecord> {
    return unavailableAsBookingError(() => this.requeue(bookingId, eventId));
  }

  private async requeue(bookingId: string, eventId: string): Promise<BookingEventRecord> {
    const view = await this.read(bookingId);
    if (!view) throw new BookingError('booking_not_found', `no booking ${bookingId}`);
    if (!view.events.some((record) => record.event.id === eventId)) {
      throw new EventNotFoundError(`booking ${bookingId} has no event ${eventId}`);
    }
    if (view.open) {
      const record = await this.update(bookingWorkflowId(bookingId), eventId);
      if (record) return record;
    }
    const workflowId = bookingEventsWorkflowId(bookingId, view.chainId);
    const record = await this.update(workflowId, eventId);
    if (record) return record;
    if (!(await this.startEventsWorkflow(workflowId, view, { redeliver: eventId }))) {
      // Another redelivery started it meanwhile: this one joins it.
      const joined = await this.update(workflowId, eventId);
      if (joined) return joined;
    }
    const known = view.events.find((candidate) => candidate.event.id === eventId)!;
    return { event: known.event, delivery: pendingDelivery(known.delivery.redeliveries + 1) };
  }

  /**
   * Adds an event to a booking that has ended (a late caller turned away): to the booking's outbox while it is
   * open, else to its events workflow, started again from what the booking last held when it has ended. False
   * when there is no such booking. Never on the call-action answer's path: the caller does not wait for it.
   */
  async emitLate(bookingId: string, late: LateEvent): Promise<boolean> {
    const view = await this.read(bookingId);
    if (!view || view.chainId === '') return false;
    if (view.open && (await this.signal(bookingWorkflowId(bookingId), late))) return true;
    const workflowId = bookingEventsWorkflowId(bookingId, view.chainId);
    if (await this.signal(workflowId, late)) return true;
    return (await this.startEventsWorkflow(workflowId, view, { late })) || this.signal(workflowId, late);
  }

  /**
   * Starts the booking's events workflow again from what the booking last held, with one thing to do first.
   * False when it runs already (started meanwhile by another redelivery or late event).
   */
  private async startEventsWorkflow(
    workflowId: string,
    view: BookingEventsView,
    first: { redeliver: string } | { late: LateEvent },
  ): Promise<boolean> {
    try {
      await this.client.workflow.start(bookingEventsWorkflow, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [
          {
            stream: view.stream,
            chainId: view.chainId,
            // Its once-only keys too: a repeat of a late call (8x8 delivers twice) that comes after the last events
            // workflow ended would otherwise be recorded, and sent, a second time under a new id.
            carried: { sequence: view.sequence, records: view.events, queue: [], emittedKeys: view.emittedKeys ?? [] },
            ...first,
          },
        ],
      });
      return true;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return false;
    }
  }

  private async signal(workflowId: string, late: LateEvent): Promise<boolean> {
    try {
      await this.client.withDeadline(Date.now() + CALL_DEADLINE_MS, () =>
        this.client.workflow.getHandle(workflowId).signal(lateEventSignal, late),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private async query(workflowId: string): Promise<BookingEventsView | 'not_found' | 'no_events'> {
    try {
      return await this.client.withDeadline(Date.now() + CALL_DEADLINE_MS, () =>
        this.client.workflow.getHandle(workflowId).query(bookingEventsQuery),
      );
    } catch (error) {
      if (isNotFound(error)) return 'not_found';
      if (error instanceof QueryNotRegisteredError) return 'no_events';
      throw error;
    }
  }

  /** The record after the outbox took the redelivery; null when that outbox is closed or not there. */
  private async update(workflowId: string, eventId: string): Promise<BookingEventRecord | null> {
    try {
      return await this.client.withDeadline(Date.now() + CALL_DEADLINE_MS, () =>
        this.client.workflow.getHandle(workflowId).executeUpdate(redeliverEventUpdate, { args: [eventId] }),
      );
    } catch (error) {
      if (isNotFound(error)) return null;
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        if (error.cause.type === OUTBOX_CLOSED) return null;
        if (error.cause.type === EVENT_NOT_FOUND) throw new EventNotFoundError(`no event ${eventId}`);
      }
      throw error;
    }
  }
}

/** Temporal did not answer (down, or past the deadline): the platform hears "try again", as for bookings. */
async function unavailableAsBookingError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isUnreachable(error)) {
      throw new BookingError('temporal_unavailable', 'the booking service cannot reach Temporal, try again');
    }
    throw error;
  }
}

/** Temporal unreachable, busy or past the deadline, whichever wrapper the SDK put around it. */
function isUnreachable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (isGrpcServiceError(cause) && !isNotFound(cause)) return true;
    if (isTransientRefusal(cause)) return true;
    if (/deadline exceeded|failed to connect|connection refused|unavailable/i.test(cause.message)) return true;
  }
  return false;
}

/** The workflow is not there, or has ended (for an update): never a namespace that is not there, also code 5. */
function isNotFound(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  return isGrpcServiceError(error) && error.code === 5 && detailTypes(error).includes(WORKFLOW_NOT_FOUND);
}

const WORKFLOW_NOT_FOUND = 'temporal.api.errordetails.v1.NotFoundFailure';
