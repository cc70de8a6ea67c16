import Router from '@koa/router';
import { EventNotFoundError, type BookingEventsClient } from '../../events/eventsClient';
import type { BookingEventsView } from '../../events/messages';
import { HttpError } from '../errors';
import { isBookingId } from '../requests';

/** What the platform sees of a booking's events: each as it was sent, with what became of its delivery. */
function present(view: BookingEventsView) {
  return { bookingId: view.bookingId, events: view.events };
}

/**
 * A booking's events: what was sent and how each delivery went, and redelivery of one. A BookingError thrown here
 * is answered by errorResponses (../errors.ts) as the catalogue says.
 */
export function bookingEventRoutes(events: BookingEventsClient): Router {
  const router = new Router({ prefix: '/v1/bookings', sensitive: true });

  router.get('/:bookingId/events', async (ctx) => {
    const bookingId = ctx.params.bookingId ?? '';
    // No booking can have an id outside the creation rules; such an id never reaches a Temporal query.
    if (!isBookingId(bookingId)) throw new HttpError(404, 'booking_not_found', 'no such booking');
    const view = await events.list(bookingId);
    if (!view) throw new HttpError(404, 'booking_not_found', `no booking ${bookingId}`);
    ctx.body = present(view);
  });

  router.post('/:bookingId/events/:eventId/redeliver', async (ctx) => {
    const bookingId = ctx.params.bookingId ?? '';
    if (!isBookingId(bookingId)) throw new HttpError(404, 'booking_not_found', 'no such booking');
    try {
      const record = await events.redeliver(bookingId, ctx.params.eventId ?? '');
      ctx.status = 202;
      ctx.body = record;
    } catch (error) {
      if (error instanceof EventNotFoundError) throw new HttpError(404, 'event_not_found', error.message);
      throw error;
    }
  });

  return router;
}
