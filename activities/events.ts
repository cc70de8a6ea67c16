import { ApplicationFailure, Context } from '@temporalio/activity';
import type { BookingEvent, EventStream } from '../src/events/bookingEvents';
import type { EventSender } from '../src/events/eventSender';

export type EventDeliveryResult =
  { status: 'delivered'; responseStatus: number; attempts: number } | { status: 'not_configured'; attempts: number };

/** The failure types a delivery ends with; the workflow reads the receiver's status from the details. */
export const EventDeliveryFailure = { retry: 'event_delivery_failed', refused: 'event_delivery_refused' } as const;

/**
 * One attempt at posting one booking event; Temporal retries it on the workflow's schedule. A refusal that a retry
 * would only repeat (a 4xx other than 408/429, a target not allowed) fails for good at once.
 */
export function createEventActivities(deps: { sender: EventSender }) {
  return {
    async deliverBookingEvent(stream: EventStream, event: BookingEvent): Promise<EventDeliveryResult> {
      const context = Context.current();
      const attempts = context.info.attempt;
      const outcome = await deps.sender.send(stream, event, context.cancellationSignal);
      switch (outcome.kind) {
        case 'delivered':
          return { status: 'delivered', responseStatus: outcome.responseStatus, attempts };
        case 'not_configured':
          return { status: 'not_configured', attempts };
        case 'retry':
          throw ApplicationFailure.create({
            type: EventDeliveryFailure.retry,
            message: outcome.error,
            details: [{ responseStatus: outcome.responseStatus, attempts }],
            ...(outcome.retryAfterMs !== null ? { nextRetryDelay: outcome.retryAfterMs } : {}),
          });
        case 'refused':
          throw ApplicationFailure.create({
            type: EventDeliveryFailure.refused,
            message: outcome.error,
            details: [{ responseStatus: outcome.responseStatus, attempts }],
            nonRetryable: true,
          });
      }
    },
  };
}

export type EventActivities = ReturnType<typeof createEventActivities>;
