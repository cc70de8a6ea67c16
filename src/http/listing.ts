import { z } from 'zod';
import { HttpError } from './errors';

/** Query strings of the list endpoints: filters, `limit`, and an opaque `cursor` from the previous page. */

export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;

/** The cursor is opaque to the platform: base64url of what the next page starts after. */
export function encodeCursor(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  if (position === '' || encodeCursor(position) !== cursor) {
    throw new HttpError(400, 'invalid_request', 'cursor: not a cursor this API gave');
  }
  return position;
}

const single = z.preprocess((value) => (Array.isArray(value) ? value.at(-1) : value), z.string().optional());

export const pageQuery = {
  limit: single.transform((value, ctx) => {
    if (value === undefined) return DEFAULT_PAGE;
    const limit = Number(value);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${MAX_PAGE}` });
      return z.NEVER;
    }
    return limit;
  }),
  cursor: single,
};

export function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'query';
  throw new HttpError(400, 'invalid_request', `${field}: ${issue?.message ?? 'is invalid'}`);
}

export { single as singleQueryValue };
