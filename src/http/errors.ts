import type { Context, Next } from 'koa';
import { BOOKING_ERRORS, BookingError, type BookingErrorInfo } from '../bookings/errors';
import type { Logger } from '../logging/logger';
import { isStoreUnavailable } from '../store/database';

/** An answer the client caused: an HTTP status, a stable code and a message meant for a developer. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/**
 * A booking service's refusal as the catalogue answers it: its status, and Retry-After where retrying may succeed.
 * Answered as it is, not turned into an HttpError first: past capacity every request is refused this way, and an
 * error's stack trace is not free.
 */
function answerBookingError(ctx: Context, error: BookingError): void {
  const { status, retry, retryAfterSeconds = 5 }: BookingErrorInfo = BOOKING_ERRORS[error.code];
  ctx.status = status;
  if (retry) ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.body = errorBody(error.code, error.message);
}

/**
 * Turns every thrown error into `{"error": {"code", "message"}}`; only our own bugs and outages are 5xx. The one
 * place a BookingError becomes an answer, so that handlers read parse → call → shape.
 */
export function errorResponses(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      if (error instanceof BookingError) {
        answerBookingError(ctx, error);
        return;
      }
      if (error instanceof HttpError) {
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = errorBody(error.code, error.message);
        return;
      }
      if (isStoreUnavailable(error)) {
        logger.warn({ err: error, method: ctx.method, path: ctx.path }, 'store unavailable');
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.body = errorBody('store_unavailable', 'the store is unavailable, try again');
        return;
      }
      logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = errorBody('internal_error', 'something went wrong on our side');
    }
  };
}

/** Body parsing failures from co-body, as HttpErrors with codes. */
export function bodyParseError(error: Error & { status?: number; type?: string }): HttpError {
  if (error.status === 413) return new HttpError(413, 'payload_too_large', 'the request body is larger than 64 KB');
  if (error.status === 415) return new HttpError(415, 'unsupported_media_type', error.message);
  // The parser refuses keys that could reach an object's prototype (prototype poisoning); the JSON itself is valid.
  if (/forbidden prototype property/i.test(error.message)) {
    return new HttpError(
      400,
      'invalid_json',
      'the request body has a "__proto__" or "constructor.prototype" key, which is refused',
    );
  }
  return new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
}
