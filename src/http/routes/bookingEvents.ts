import Router from '@koa/router';
import { BOOKING_ERRORS, BookingError } from '../../bookings/errors';
import { EventNotFoundError, type BookingEventsClient } from '../../events/eventsClient';
import type { BookingEventsView } from '../../events/messages';
import { HttpError } from '../errors';

const BOOKING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function asHttpError(error: unknown): unknown {
  if (error instanceof EventNotFoundError) return new HttpError(404, 'event_not_found', error.message);
  if (!(error instanceof BookingError)) return error;
  const { status, retry } = BOOKING_ERRORS[error.code];
  return new HttpError(status, error.code, error.message, retry ? { 'Retry-After': '5' } : {});
}

/** What the platform sees of a booking's events: each as it was sent, with what became of its delivery. */
function present(view: BookingEventsView) {
  return { bookingId: view.bookingId, events: view.events };
}

/** A booking's events: what was sent and how each delivery went, and redelivery of one. */
export function bookingEventRoutes(events: BookingEventsClient): Router {
  const router = new Router({ prefix: '/v1/bookings', sensitive: true });

  router.get('/:bookingId/events', async (ctx) => {
    const bookingId = ctx.params.bookingId ?? '';
    // No booking can have an id outside the creation rules; such an id never reaches a Temporal query.
    if (!BOOKING_ID.test(bookingId)) throw new HttpError(404, 'booking_not_found', 'no such booking');
    try {
      const view = await events.list(bookingId);
      if (!view) throw new HttpError(404, 'booking_not_found', `no booking ${bookingId}`);
      ctx.body = present(view);
    } catch (error) {
      throw asHttpError(error);
    }
  });

  router.post('/:bookingId/events/:eventId/redeliver', async (ctx) => {
    const bookingId = ctx.params.bookingId ?? '';
    if (!BOOKING_ID.test(bookingId)) throw new HttpError(404, 'booking_not_found', 'no such booking');
    try {
      ctx.status = 202;
      ctx.body = await events.redeliver(bookingId, ctx.params.eventId ?? '');
    } catch (error) {
      throw asHttpError(error);
    }
  });

  return router;
}
