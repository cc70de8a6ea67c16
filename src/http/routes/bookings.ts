import type { ServerResponse } from 'node:http';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { BookingClient } from '../../bookings/client';
import type { Admission } from '../../bookings/admission';
import type { BookingEraser } from '../../bookings/erasure';
import { BookingError } from '../../bookings/errors';
import { bookingCreationDuration, bookingCreations } from '../../metrics/metrics';
import { HttpError } from '../errors';
import { NO_BOOKING_EVENTS, isBookingId, parseBookingRequest, type BookingCreationOptions } from '../requests';
import type { BookingView } from '../../bookings/contract';

/** Aborted when the connection closes before the answer was sent. */
function callerGone(response: ServerResponse): AbortSignal {
  const gone = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) gone.abort(new Error('the caller closed the connection'));
  });
  return gone.signal;
}

/** What the platform sees of a booking. */
function present(booking: BookingView) {
  return {
    bookingId: booking.bookingId,
    status: booking.status,
    virtualNumber: booking.virtualNumber,
    // Only a PIN-fallback booking says its mode: every other answer reads as it always has.
    ...(booking.mode === 'pin' ? { mode: booking.mode, pin: booking.pin } : {}),
    parties: booking.parties,
    ...(booking.reach ? { reach: booking.reach } : {}),
    expiresAt: booking.expiresAt,
    createdAt: booking.createdAt,
    gracePeriodSeconds: booking.gracePeriodSeconds,
    graceEndsAt: booking.graceEndsAt,
    endedAt: booking.endedAt,
    calls: booking.calls,
  };
}

/**
 * Counts and times each creation by its answer: created (201), replayed (200), a refusal by its code, invalid (a
 * request refused as malformed), error (our fault or an outage the catalogue has no code for).
 */
async function measureCreation(ctx: Context, next: Next): Promise<void> {
  const stop = bookingCreationDuration.startTimer();
  let result = 'error';
  try {
    await next();
    if (ctx.status === 201) result = 'created';
    else if (ctx.status === 200) result = 'replayed';
    else if (ctx.body === undefined) result = 'caller_gone';
  } catch (error) {
    if (error instanceof BookingError) result = error.code;
    else if (error instanceof HttpError && error.status < 500) result = 'invalid';
    throw error;
  } finally {
    bookingCreations.inc({ result });
    stop();
  }
}

export type { BookingCreationOptions } from '../requests';

/**
 * The booking platform's API: create a masked pairing, read it, complete or cancel it, erase it once ended. A
 * BookingError thrown here is answered by errorResponses (../errors.ts) as the catalogue says.
 */
export function bookingRoutes(
  bookings: BookingClient,
  eraser: BookingEraser,
  admission: Admission,
  creation: BookingCreationOptions = NO_BOOKING_EVENTS,
): Router {
  const router = new Router({ prefix: '/v1/bookings', sensitive: true });

  router.post('/', measureCreation, async (ctx) => {
    const request = parseBookingRequest(ctx.request.body, creation);
    // Past the server's capacity a creation is refused at once; a retry of one under way here joins it; one
    // whose caller hung up while it waited is never started.
    const gone = callerGone(ctx.res);
    const { value } = await admission
      .run(request.bookingId, () => bookings.create(request), gone)
      .catch((error) => {
        // Nobody is left to answer; the creation was never started.
        if (gone.aborted) return { value: null };
        throw error;
      });
    if (!value) return;
    const { created, booking } = value;
    ctx.status = created ? 201 : 200;
    ctx.body = present(booking);
  });

  router.get('/:bookingId', async (ctx) => {
    const booking = await bookings.get(ctx.params.bookingId ?? '');
    if (!booking) throw new HttpError(404, 'booking_not_found', `no booking ${ctx.params.bookingId}`);
    ctx.body = present(booking);
  });

  for (const action of ['complete', 'cancel'] as const) {
    router.post(`/:bookingId/${action}`, async (ctx) => {
      const bookingId = ctx.params.bookingId ?? '';
      const status = action === 'complete' ? await bookings.complete(bookingId) : await bookings.cancel(bookingId);
      ctx.status = 202;
      ctx.body = { bookingId, status };
    });
  }

  router.delete('/:bookingId/data', async (ctx) => {
    const bookingId = ctx.params.bookingId ?? '';
    // No booking can have an id outside the creation rules; such an id never reaches a Temporal query.
    if (!isBookingId(bookingId)) throw new HttpError(404, 'booking_not_found', 'no such booking');
    const erased = await eraser.erase(bookingId);
    ctx.status = 202;
    ctx.body = erased;
  });

  return router;
}
