import type { Context, Next } from 'koa';
import { HttpError } from './errors';

/**
 * Percent-encoded letters, digits and `-._~` (RFC 3986 makes `%41` and `A` the same path, so only `A` is accepted),
 * and encoded separators, `/` and `\`: no segment of ours holds one, and proxies disagree on whether they separate
 * (Apache refuses `%2F` by default). Inside a parameter, `%2F` made `POST /v1/bookings/<id>%2Fcancel` a path of
 * `GET /v1/bookings/:bookingId`.
 */
const ENCODED_UNRESERVED_OR_SEPARATOR = /%(?:3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|2e|5f|7e|2f|5c)/i;

/**
 * Whether a path is written the one way a client that means one of our routes writes it: no empty segment (`//`),
 * no `.` or `..` segment, no percent-encoded letter, digit, `-._~` or separator, no backslash, no trailing slash.
 * Any other spelling names no route here: a proxy in front that normalises paths, or matches them by prefix, sees
 * the path the routers see.
 */
export function isCanonicalPath(path: string): boolean {
  if (path === '/') return true;
  if (!path.startsWith('/') || path.includes('\\') || ENCODED_UNRESERVED_OR_SEPARATOR.test(path)) return false;
  return path
    .slice(1)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** Answers 404 to a path spelled otherwise, before any router sees it (the routers match case-sensitively too). */
export async function canonicalPathsOnly(ctx: Context, next: Next) {
  if (!isCanonicalPath(ctx.path)) {
    throw new HttpError(
      404,
      'not_found',
      'no route for this spelling of the path: no empty or dot segments, encoded letters, digits or slashes, ' +
        'backslashes or trailing slash',
    );
  }
  await next();
}
