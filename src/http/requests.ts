import { z } from 'zod';
import { BOOKING_DEFAULTS, BOOKING_LIMITS, MAX_PARTIES, type BookingRequest, type Parties } from '../domain/booking';
import { AFTER_END_ROUTES, type AfterEndRoute } from '../domain/outOfSession';
import { MAX_WRITTEN_LENGTH, parseValidPhoneNumber } from '../domain/phoneNumbers';
import { isEventsUrl } from '../events/eventTargets';
import { HttpError } from './errors';

/**
 * Validation of the booking platform's requests: a typed value, or a 400 that names the field. The OpenAPI
 * document's request schemas are generated from these (src/http/openapi.ts), so a field's description sits here
 * beside its rule.
 */

// The metadata sits on the input side of each transform: the document describes what a client sends.
export const phoneNumberSchema = z
  .string()
  // The length limit is parseValidPhoneNumber's (its refusal says why): documented here, not checked twice.
  .meta({
    minLength: 1,
    maxLength: MAX_WRITTEN_LENGTH,
    description:
      'An international phone number. Spaces, dashes and brackets are allowed and the leading `+` may be ' +
      "omitted; it must be a valid number of its country's numbering plan. Stored and answered in E.164.",
    examples: ['+6591234567', '+65 9123 4567', '6591234567'],
  })
  .transform((raw, ctx) => {
    const parsed = parseValidPhoneNumber(raw);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: 'not a valid phone number (E.164, e.g. +6591234567)' });
      return z.NEVER;
    }
    return parsed.e164;
  });

/** The booking platform's id of a booking, as every booking was created with: the rule for reading one too. */
export const bookingIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -');

export function isBookingId(value: string): boolean {
  return bookingIdSchema.safeParse(value).success;
}

const wholeSeconds = (limits: { min: number; max: number }) =>
  z
    .number({ error: 'must be a whole number of seconds' })
    .int('must be a whole number of seconds')
    .min(limits.min, `must be at least ${limits.min}`)
    .max(limits.max, `must be at most ${limits.max}`);

export const partySchema = z.object({
  role: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(64)
    .meta({ description: 'e.g. `rider`, `driver`; trimmed; must not be blank.' }),
  number: phoneNumberSchema,
});

export const bookingRequestSchema = z
  .object({
    bookingId: bookingIdSchema.meta({
      description: "The booking platform's id; the idempotency key of the request.",
      examples: ['ride-1842'],
    }),
    parties: z
      .array(partySchema)
      .min(2, 'must list at least two parties')
      .max(MAX_PARTIES, `must list at most ${MAX_PARTIES} parties`)
      .meta({
        description:
          `Two to ${MAX_PARTIES} parties (e.g. customer, courier, restaurant), with different roles and different ` +
          'numbers. One virtual number is found that is free for all of them.',
      }),
    reach: z
      .record(z.string(), z.array(z.string()).max(MAX_PARTIES - 1, `may list at most ${MAX_PARTIES - 1} roles`))
      .optional()
      .meta({
        description:
          'Who may reach whom, by role: each role of the booking that may call through the virtual number, with ' +
          'the roles it may call, in the order its menu offers them (e.g. `{"customer": ["courier"], ' +
          '"restaurant": ["courier"], "courier": ["customer", "restaurant"]}`). A role not named here reaches ' +
          'nobody (its calls hear the notice). A caller with one target is put through at once; with several, 8x8 ' +
          'asks them to press a digit ("Press 1 for the customer, 2 for the restaurant"). Without `reach` every ' +
          'party reaches every other one: for two parties that is each other, as always; for three or more, each ' +
          'caller hears the menu of all the others.',
        examples: [{ customer: ['courier'], restaurant: ['courier'], courier: ['customer', 'restaurant'] }],
      }),
    expiresInSeconds: wholeSeconds(BOOKING_LIMITS.expiresInSeconds).default(BOOKING_DEFAULTS.expiresInSeconds).meta({
      description: 'The booking expires (and its number is released) this long after it is created; at most 30 days.',
    }),
    gracePeriodSeconds: wholeSeconds(BOOKING_LIMITS.gracePeriodSeconds)
      .default(BOOKING_DEFAULTS.gracePeriodSeconds)
      .meta({ description: 'After completion, calls keep connecting this long; at most a day.' }),
    geoMatch: z.enum(['prefer', 'strict']).default(BOOKING_DEFAULTS.geoMatch).meta({
      description: "Whether the virtual number should (`prefer`) or must (`strict`) be of the parties' country.",
    }),
    callbackUrl: z
      .string()
      .max(2048)
      .optional()
      .meta({
        description:
          "Where this booking's events are posted instead of the deployment's MASKLINE_EVENTS_URL: https " +
          '(plain http only to loopback, or in development mode).',
        examples: ['https://platform.example.com/maskline-events'],
      }),
    outOfSession: z
      .object({
        afterEnd: z
          .enum(AFTER_END_ROUTES as [AfterEndRoute, ...AfterEndRoute[]])
          .optional()
          .meta({
            description:
              'Where a party of this booking who calls its virtual number after the booking ended goes, for the ' +
              "deployment's window (MASKLINE_ENDED_BOOKING_WINDOW; off by default, and then this has no effect): " +
              '`other_party` (put through, as during the booking), `support` (MASKLINE_SUPPORT_NUMBER, the VN as ' +
              'caller ID), `ask` (the platform is asked) or `notice`. Default: MASKLINE_ENDED_BOOKING_ROUTE. A live ' +
              'booking of the same caller on the same number always wins.',
          }),
        askUrl: z
          .string()
          .max(2048)
          .optional()
          .meta({
            description:
              "Where `ask` posts for this booking's late callers instead of MASKLINE_ASK_URL; checked as " +
              'callbackUrl is (https, plain http only to loopback or in development mode, a host of ' +
              'MASKLINE_PLATFORM_HOSTS when that is set).',
            examples: ['https://platform.example.com/maskline-ask'],
          }),
      })
      .optional()
      .meta({ description: "This booking's choice for calls that no live booking routes (see the README)." }),
    record: z
      .boolean()
      .default(false)
      .meta({
        description:
          "Whether this booking's calls are recorded: the connecting `makeCall` carries 8x8's `callRecording`, which " +
          'needs a recording push configuration on the 8x8 account (`maskline 8x8 recording-push-config`). Each ' +
          'uploaded recording is shown on its call and announced as a `call.recording_available` event.',
      }),
    numberSelection: z
      .enum(['spread', 'prefer-sticky'])
      .default('spread')
      .meta({
        description:
          '`spread`: the least-loaded number free for both parties. `prefer-sticky`: the number these two people had ' +
          'in their last `prefer-sticky` booking together, when it is free for both (a familiar number for a repeat ' +
          'customer and courier); otherwise as `spread`.',
      }),
    fallback: z
      .enum(['none', 'pin'])
      .optional()
      .meta({
        description:
          '`pin`: when no number is free for both parties, the booking gets a number of the PIN set, shared with ' +
          'other bookings, and a PIN (answered as `mode: "pin"` and `pin`); its callers dial the number and enter ' +
          'the PIN. `none`: refused `no_number_available`. Default: MASKLINE_NUMBER_FALLBACK (`none` unless set). ' +
          'For bookings of two parties only: a PIN call goes to the other party.',
      }),
  })
  .meta({ description: 'Fields not listed here are ignored.' })
  .superRefine((request, ctx) => {
    const { parties } = request;
    const other = parties.length === 2 ? 'the other party' : 'every other party';
    parties.forEach((party, index) => {
      const earlier = parties.slice(0, index);
      if (earlier.some((before) => before.number === party.number)) {
        ctx.addIssue({ code: 'custom', path: ['parties', index, 'number'], message: `must differ from ${other}` });
      }
      if (earlier.some((before) => before.role === party.role)) {
        ctx.addIssue({ code: 'custom', path: ['parties', index, 'role'], message: `must differ from ${other}` });
      }
    });
    const roles = new Set(parties.map((party) => party.role));
    for (const [caller, targets] of Object.entries(request.reach ?? {})) {
      if (!roles.has(caller)) {
        ctx.addIssue({ code: 'custom', path: ['reach', caller], message: 'is not a role of this booking' });
      }
      targets.forEach((target, index) => {
        const path = ['reach', caller, index];
        if (!roles.has(target)) ctx.addIssue({ code: 'custom', path, message: 'is not a role of this booking' });
        else if (target === caller) ctx.addIssue({ code: 'custom', path, message: 'a party cannot reach itself' });
        else if (targets.indexOf(target) !== index) ctx.addIssue({ code: 'custom', path, message: 'is listed twice' });
      });
    }
    // The pair's last number is a pair's: a booking of more people has no one pair to remember it by.
    if (request.numberSelection === 'prefer-sticky' && parties.length > 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['numberSelection'],
        message: '`prefer-sticky` is for bookings of two parties',
      });
    }
  });

export const numberRequestSchema = z
  .object({
    number: phoneNumberSchema,
    referenceId: z.string().min(1).max(128).optional().meta({ description: "8x8's or your own id of the number." }),
    countryCode: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as SG')
      .meta({
        description: "ISO 3166-1 alpha-2, stored in upper case. Default: the number's country, when its plan tells.",
        examples: ['SG'],
      })
      .transform((code) => code.toUpperCase())
      .optional(),
    use: z
      .enum(['pin'])
      .optional()
      .meta({
        description:
          '`pin`: the number joins the PIN set, which only PIN-fallback bookings get (many at once, each with its ' +
          'own PIN); ordinary allocation never gives it out. Absent: an ordinary number.',
      }),
  })
  .meta({ description: 'Fields not listed here are ignored.' });

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

export interface BookingCreationOptions {
  /** A callbackUrl may be plain http to any host (development mode); otherwise https, or http on loopback. */
  allowPlainHttp: boolean;
  /** The deployment has events name the parties' numbers (MASKLINE_EVENTS_INCLUDE_NUMBERS). */
  eventNumbers: boolean;
  /** The deployment has a receiver of events (MASKLINE_EVENTS_URL); without one, only a callbackUrl gets them. */
  eventsUrlSet: boolean;
  /** The deployment has a secret to sign events with (MASKLINE_EVENTS_SECRETS); without one, no callbackUrl. */
  canSign: boolean;
  /** MASKLINE_PLATFORM_HOSTS: the hosts a booking's callbackUrl and askUrl may name; empty: any. */
  platformHosts?: readonly string[];
  /** The deployment's late-caller window and default route (MASKLINE_ENDED_BOOKING_*); window 0: off. */
  afterEnd?: { windowSeconds: number; route: AfterEndRoute };
  /** MASKLINE_NUMBER_FALLBACK: what a booking that names no `fallback` gets when no number is free. */
  numberFallback?: 'none' | 'pin';
}

/** A deployment with no receiver of events and nothing to sign them with. */
export const NO_BOOKING_EVENTS: BookingCreationOptions = {
  allowPlainHttp: false,
  eventNumbers: false,
  eventsUrlSet: false,
  canSign: false,
};

export function parseBookingRequest(body: unknown, events: BookingCreationOptions = NO_BOOKING_EVENTS): BookingRequest {
  const { callbackUrl, outOfSession, record, numberSelection, fallback, ...request } = parseOrThrow(
    bookingRequestSchema,
    body,
  );
  const hosts = events.platformHosts ?? [];
  const urlRule = hosts.length > 0 ? ` on a host of MASKLINE_PLATFORM_HOSTS (${hosts.join(', ')})` : '';
  if (callbackUrl !== undefined && !isEventsUrl(callbackUrl, events.allowPlainHttp, hosts)) {
    throw new HttpError(
      400,
      'invalid_request',
      `callbackUrl: must be an https:// URL (http:// only on loopback)${urlRule}`,
    );
  }
  // Events go out signed or not at all: taken without a secret, they would wait unsent for the booking's life.
  if (callbackUrl !== undefined && !events.canSign) {
    throw new HttpError(
      400,
      'invalid_request',
      'callbackUrl: this deployment has no MASKLINE_EVENTS_SECRETS to sign events with, so it cannot send them',
    );
  }
  const askUrl = outOfSession?.askUrl;
  if (askUrl !== undefined && !isEventsUrl(askUrl, events.allowPlainHttp, hosts)) {
    throw new HttpError(
      400,
      'invalid_request',
      `outOfSession.askUrl: must be an https:// URL (http:// only on loopback)${urlRule}`,
    );
  }
  if (askUrl !== undefined && !events.canSign) {
    throw new HttpError(
      400,
      'invalid_request',
      'outOfSession.askUrl: this deployment has no MASKLINE_EVENTS_SECRETS to sign questions with',
    );
  }
  // A PIN call connects the caller to the other party: a booking of several parties has no one "other party".
  if (fallback === 'pin' && request.parties.length > 2) {
    throw new HttpError(400, 'invalid_request', 'fallback: "pin" is for bookings of two parties');
  }
  const pinFallback = (fallback ?? (request.parties.length === 2 ? events.numberFallback : 'none')) === 'pin';
  const window = events.afterEnd?.windowSeconds ?? 0;
  return {
    ...request,
    ...(window > 0
      ? {
          afterEnd: {
            windowSeconds: window,
            route: outOfSession?.afterEnd ?? events.afterEnd!.route,
            ...(askUrl !== undefined ? { askUrl } : {}),
          },
        }
      : {}),
    parties: request.parties as Parties,
    ...(callbackUrl !== undefined ? { callbackUrl } : {}),
    ...(record ? { record: true as const } : {}),
    // Unset means spread: the request of a booking that spreads reads as it always has.
    ...(numberSelection === 'prefer-sticky' ? { numberSelection } : {}),
    // Unset means refused when nothing is free: the request of a booking without the fallback reads as it always has.
    ...(pinFallback ? { fallback: 'pin' as const } : {}),
    ...(events.eventNumbers ? { eventNumbers: true } : {}),
    ...(callbackUrl === undefined && !events.eventsUrlSet ? { eventDelivery: false } : {}),
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
