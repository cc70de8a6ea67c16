import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { HttpError } from './errors';

/** Compares secrets in constant time; hashing first makes the lengths equal so length does not leak either. */
export function secretsMatch(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The booking platform's credential: `Authorization: Bearer <MASKLINE_API_KEY>`. Open in development mode. */
export function requireApiKey(apiKey: string | null) {
  return async (ctx: Context, next: Next) => {
    if (apiKey !== null) {
      const header = ctx.get('authorization');
      const token = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? '';
      if (!secretsMatch(token, apiKey)) {
        throw new HttpError(401, 'unauthorized', 'missing or wrong API key', { 'WWW-Authenticate': 'Bearer' });
      }
    }
    await next();
  };
}

/**
 * 8x8's only webhook authentication for voice is the `httpAuthHeader` registered with the webhook, sent
 * verbatim as the Authorization header. A `Bearer ` prefix is tolerated in case it is added on the way.
 */
export function webhookSecretMatches(header: string, secret: string | null): boolean {
  if (secret === null) return true;
  const value = header.replace(/^Bearer\s+/i, '');
  return secretsMatch(value, secret);
}
