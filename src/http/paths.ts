import type { Context, Next } from 'koa';
import { HttpError } from './errors';

/** Letters, digits and `-._~`: RFC 3986 says `%41` and `A` are the same path, so only `A` is accepted. */
const ENCODED_UNRESERVED = /%(?:3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|2e|5f|7e)/i;

/**
 * Whether a path is written the one way a client that means one of our routes writes it: no empty segment (`//`),
 * no `.` or `..` segment, no percent-encoded letter, digit or `-._~`, no trailing slash. Any other spelling names
 * no route here: a proxy in front that normalises paths, or matches them by prefix, sees the path the routers see.
 */
export function isCanonicalPath(path: string): boolean {
  if (path === '/') return true;
  if (!path.startsWith('/') || ENCODED_UNRESERVED.test(path)) return false;
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
      'no route for this spelling of the path: no empty or dot segments, encoded letters or digits, or trailing slash',
    );
  }
  await next();
}
