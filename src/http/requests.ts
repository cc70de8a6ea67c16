import { z } from 'zod';
import { BOOKING_DEFAULTS, BOOKING_LIMITS, type BookingRequest, type Party } from '../domain/booking';
import { parseValidPhoneNumber } from '../domain/phoneNumbers';
import { isEventsUrl } from '../config';
import { HttpError } from './errors';

/** Validation of the booking platform's requests: a typed value, or a 400 that names the field. */

const phoneNumber = z.string().transform((raw, ctx) => {
  const parsed = parseValidPhoneNumber(raw);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: 'not a valid phone number (E.164, e.g. +6591234567)' });
    return z.NEVER;
  }
  return parsed.e164;
});

const wholeSeconds = (limits: { min: number; max: number }) =>
  z
    .number({ error: 'must be a whole number of seconds' })
    .int('must be a whole number of seconds')
    .min(limits.min, `must be at least ${limits.min}`)
    .max(limits.max, `must be at most ${limits.max}`);

const partySchema = z.object({
  role: z.string().trim().min(1, 'must not be empty').max(64),
  number: phoneNumber,
});

const bookingRequestSchema = z
  .object({
    bookingId: z
      .string()
      .min(1, 'must not be empty')
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
    parties: z.array(partySchema).length(2, 'must list exactly two parties'),
    expiresInSeconds: wholeSeconds(BOOKING_LIMITS.expiresInSeconds).default(BOOKING_DEFAULTS.expiresInSeconds),
    gracePeriodSeconds: wholeSeconds(BOOKING_LIMITS.gracePeriodSeconds).default(BOOKING_DEFAULTS.gracePeriodSeconds),
    geoMatch: z.enum(['prefer', 'strict']).default(BOOKING_DEFAULTS.geoMatch),
    callbackUrl: z.string().max(2048).optional(),
  })
  .superRefine((request, ctx) => {
    const [first, second] = request.parties;
    if (first && second && first.number === second.number) {
      ctx.addIssue({ code: 'custom', path: ['parties', 1, 'number'], message: 'must differ from the other party' });
    }
    if (first && second && first.role === second.role) {
      ctx.addIssue({ code: 'custom', path: ['parties', 1, 'role'], message: 'must differ from the other party' });
    }
  });

const numberRequestSchema = z.object({
  number: phoneNumber,
  referenceId: z.string().min(1).max(128).optional(),
  countryCode: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as SG')
    .transform((code) => code.toUpperCase())
    .optional(),
});

function parseOrThrow<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  const missing = issue?.code === 'invalid_type' && valueAt(body, issue.path) === undefined;
  const message = missing ? 'is required' : (issue?.message ?? 'is invalid');
  throw new HttpError(400, 'invalid_request', `${field}: ${message}`);
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

export function parseBookingRequest(
  body: unknown,
  events: { allowPlainHttp: boolean; eventNumbers: boolean } = { allowPlainHttp: false, eventNumbers: false },
): BookingRequest {
  const { callbackUrl, ...request } = parseOrThrow(bookingRequestSchema, body);
  if (callbackUrl !== undefined && !isEventsUrl(callbackUrl, events.allowPlainHttp)) {
    throw new HttpError(400, 'invalid_request', 'callbackUrl: must be an https:// URL (http:// only on loopback)');
  }
  return {
    ...request,
    parties: request.parties as [Party, Party],
    ...(callbackUrl !== undefined ? { callbackUrl } : {}),
    ...(events.eventNumbers ? { eventNumbers: true } : {}),
  };
}

export function parseNumberRequest(body: unknown) {
  return parseOrThrow(numberRequestSchema, body);
}

export function parseNumberParam(raw: string): string {
  // The router has already decoded the path segment; decoding again would turn `%25` into a lone `%`.
  const parsed = parseValidPhoneNumber(raw);
  if (!parsed) throw new HttpError(400, 'invalid_request', 'number: not a valid phone number');
  return parsed.e164;
}
