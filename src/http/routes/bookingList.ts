import Router from '@koa/router';
import { isGrpcServiceError } from '@temporalio/client';
import { z } from 'zod';
import { BookingError } from '../../bookings/errors';
import type { BookingList } from '../../bookings/bookingList';
import { parseValidPhoneNumber } from '../../domain/phoneNumbers';
import { HttpError } from '../errors';
import { pageQuery, parseQuery, singleQueryValue } from '../listing';

const instant = singleQueryValue.pipe(
  z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), 'must be a date and time (ISO 8601)')
    .transform((text) => new Date(text))
    .optional(),
);

const bookingListQuery = z.object({
  status: singleQueryValue.pipe(
    z.enum(['allocating', 'active', 'completing', 'completed', 'cancelled', 'expired', 'refused']).optional(),
  ),
  virtualNumber: singleQueryValue.pipe(
    z
      .string()
      .transform((raw, ctx) => {
        const parsed = parseValidPhoneNumber(raw);
        if (!parsed) {
          ctx.addIssue({ code: 'custom', message: 'not a valid phone number (E.164, e.g. +6560000001)' });
          return z.NEVER;
        }
        return parsed.e164;
      })
      .optional(),
  ),
  partyRole: singleQueryValue.pipe(
    z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(64)
      .regex(/^[^"\\]*$/, 'must not contain " or \\')
      .optional(),
  ),
  createdFrom: instant,
  createdBefore: instant,
  ...pageQuery,
});

/** A Temporal page token, opaque to the platform: base64url, refused unless it reads back the same. */
function pageTokenOf(cursor: string): Uint8Array {
  const token = Buffer.from(cursor, 'base64url');
  if (token.length === 0 || token.toString('base64url') !== cursor) {
    throw new HttpError(400, 'invalid_request', 'cursor: not a cursor this API gave');
  }
  return token;
}

/** `GET /v1/bookings`: the bookings Temporal's visibility knows, newest first, filtered, a page at a time. */
export function bookingListRoutes(list: BookingList): Router {
  const router = new Router({ prefix: '/v1/bookings', sensitive: true });

  router.get('/', async (ctx) => {
    const query = parseQuery(bookingListQuery, ctx.query);
    const token = query.cursor === undefined ? null : pageTokenOf(query.cursor);
    let page;
    try {
      page = await list.page(
        {
          ...(query.status ? { status: query.status } : {}),
          ...(query.virtualNumber ? { virtualNumber: query.virtualNumber } : {}),
          ...(query.partyRole ? { partyRole: query.partyRole } : {}),
          ...(query.createdFrom ? { createdFrom: query.createdFrom } : {}),
          ...(query.createdBefore ? { createdBefore: query.createdBefore } : {}),
        },
        query.limit,
        token,
      );
    } catch (error) {
      // A page token Temporal does not take back is the platform's to fix; anything else is Temporal's outage.
      if (token !== null && (error as { code?: unknown }).code === 3) {
        throw new HttpError(400, 'invalid_request', 'cursor: not a cursor this API gave');
      }
      if (isGrpcServiceError(error)) {
        throw new BookingError('temporal_unavailable', 'the booking service cannot reach Temporal, try again');
      }
      throw error;
    }
    ctx.body = {
      bookings: page.bookings,
      nextCursor: page.nextPageToken === null ? null : Buffer.from(page.nextPageToken).toString('base64url'),
    };
  });

  return router;
}
