import { MAX_PARTIES } from '../domain/booking';
import { BOOKING_EVENT_TYPES, type BookingEventType } from '../events/bookingEvents';

/**
 * The OpenAPI parts of booking events and of the list endpoints: the `webhooks:` Maskline posts to the platform,
 * the paths that read events back and list bookings, and their schemas. Merged into src/http/openapi.ts.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const nullable = (schema: object) => ({ oneOf: [schema, { type: 'null' }] });
const errors = (description: string, codes: string[], headers?: object) => ({
  description: `${description} Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
  ...(headers ? { headers } : {}),
  content: json({
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: { error: { allOf: [ref('ErrorDetail')], properties: { code: { enum: codes } } } },
  }),
});
const unauthorized = { $ref: '#/components/responses/Unauthorized' };
const internalError = { $ref: '#/components/responses/InternalError' };
const temporalUnavailable = { $ref: '#/components/responses/TemporalUnavailable' };
const security = [{ apiKey: [] }];
const query = (name: string, description: string, schema: object) => ({ name, in: 'query', description, schema });
const pageParameters = [
  query('limit', 'How many to answer at most (default 50).', { type: 'integer', minimum: 1, maximum: 200 }),
  query('cursor', 'The `nextCursor` of the previous page.', { type: 'string', minLength: 1 }),
];
const bookingIdParameter = {
  name: 'bookingId',
  in: 'path',
  required: true,
  description: "The booking platform's id of the booking.",
  schema: { type: 'string', minLength: 1 },
};
const invalidQuery = errors('A query parameter is invalid (the message names it).', ['invalid_request']);

const party = {
  type: 'object',
  required: ['role'],
  additionalProperties: false,
  properties: {
    role: { type: 'string' },
    number: {
      allOf: [ref('E164')],
      description: 'Only where the deployment sets MASKLINE_EVENTS_INCLUDE_NUMBERS=true.',
    },
  },
};

const BODIES: Record<BookingEventType, { summary: string; data: object }> = {
  'booking.active': {
    summary: 'The booking holds its virtual number: calls between the parties connect.',
    data: {
      required: ['virtualNumber', 'expiresAt', 'parties'],
      properties: {
        virtualNumber: ref('E164'),
        mode: { const: 'pin', description: 'Present for a PIN-fallback booking: callers enter `pin`.' },
        pin: { type: 'string', pattern: '^[0-9]+$' },
        expiresAt: ref('Timestamp'),
        parties: { type: 'array', items: ref('EventParty'), minItems: 2, maxItems: MAX_PARTIES },
      },
    },
  },
  'booking.refused': {
    summary: 'No number could be given to the booking; it holds nothing.',
    data: { required: ['reason'], properties: { reason: { enum: ['no_number_available', 'allocation_failed'] } } },
  },
  'booking.completing': {
    summary: 'The booking was completed: calls connect until the grace period ends.',
    data: { required: ['graceEndsAt'], properties: { graceEndsAt: ref('Timestamp') } },
  },
  'booking.completed': { summary: 'The grace period ended; the number goes back to the pool.', data: {} },
  'booking.cancelled': { summary: 'The booking was cancelled; the number goes back at once.', data: {} },
  'booking.expired': {
    summary: 'The booking ran out of time; the number goes back.',
    data: { required: ['expiredAt'], properties: { expiredAt: ref('Timestamp') } },
  },
  'call.connected': {
    summary: 'A call between the parties connected (once per call, whatever 8x8 repeats).',
    data: {
      required: ['sessionId', 'caller', 'callee', 'connectedAt'],
      properties: {
        sessionId: { type: 'string' },
        caller: nullable(ref('EventParty')),
        callee: nullable(ref('EventParty')),
        connectedAt: ref('Timestamp'),
      },
    },
  },
  'call.ended': {
    summary: "A call ended, with 8x8's session summary (once per call).",
    data: {
      required: [
        'sessionId',
        'caller',
        'callee',
        'outcome',
        'sessionStatus',
        'startedAt',
        'endedAt',
        'durationSeconds',
      ],
      properties: {
        sessionId: { type: 'string' },
        caller: nullable(ref('EventParty')),
        callee: nullable(ref('EventParty')),
        outcome: { enum: ['completed', 'no_answer', 'busy', 'cancelled', 'failed'] },
        sessionStatus: { type: 'string', description: "8x8's own word (`COMPLETED`, `NO_ANSWER`, ...)." },
        startedAt: { type: ['string', 'null'] },
        endedAt: { type: ['string', 'null'] },
        durationSeconds: { type: ['integer', 'null'], minimum: 0 },
      },
    },
  },
  'call.turned_away': {
    summary:
      'A party called the virtual number after the booking ended (within MASKLINE_ENDED_BOOKING_WINDOW) and was ' +
      'not put through to the other party. Only this case is known to concern a booking: one number serves many.',
    data: {
      required: ['sessionId', 'caller', 'route', 'handledAs', 'calledAt'],
      properties: {
        sessionId: { type: 'string' },
        caller: ref('EventParty'),
        route: { enum: ['other_party', 'support', 'ask', 'notice'], description: "The booking's late-call route." },
        handledAs: {
          enum: ['notice', 'said', 'forwarded'],
          description: 'The notice, the platform’s words (`ask`), or a call to another number (support, or `ask`’s).',
        },
        calledAt: ref('Timestamp'),
      },
    },
  },
  'call.recording_available': {
    summary:
      "8x8 uploaded a recording of a call of a booking made with `record: true` to the account's recording push " +
      'destination (once per recording). A reference only: Maskline never fetches or keeps the audio.',
    data: {
      required: ['sessionId', 'caller', 'callee', 'recordingId', 'status', 'fileUrl', 'durationSeconds', 'startedAt'],
      properties: {
        sessionId: { type: 'string' },
        caller: nullable(ref('EventParty')),
        callee: nullable(ref('EventParty')),
        recordingId: { type: 'string', description: "8x8's id of the recording (the session's, when 8x8 gave none)." },
        status: { type: 'string', description: "8x8's word for it, e.g. `completed`." },
        fileUrl: { type: ['string', 'null'], description: 'Where 8x8 put the file (`externalFileUrl`), when it said.' },
        durationSeconds: { type: ['number', 'null'], minimum: 0 },
        startedAt: { type: ['string', 'null'], description: "8x8's `startRecordingTime`." },
      },
    },
  },
};

const schemaName = (type: BookingEventType) =>
  `Event_${type.replace(/\.(.)/, (_, letter: string) => letter.toUpperCase()).replace(/^./, (c) => c.toUpperCase())}`;

const eventSchemas = Object.fromEntries(
  BOOKING_EVENT_TYPES.map((type) => [
    schemaName(type),
    {
      type: 'object',
      description: BODIES[type].summary,
      required: ['id', 'type', 'bookingId', 'timestamp', 'data'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', description: 'Unique and stable: the `webhook-id` header; the same on every attempt.' },
        type: { const: type },
        bookingId: { type: 'string' },
        timestamp: { allOf: [ref('Timestamp')], description: 'When it happened.' },
        data: { type: 'object', additionalProperties: false, required: [], ...BODIES[type].data },
      },
    },
  ]),
);

const SIGNATURE =
  'Signed in the Standard Webhooks format (https://www.standardwebhooks.com): `webhook-id` (the event id), ' +
  '`webhook-timestamp` (the attempt, Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` per secret ' +
  'of MASKLINE_EVENTS_SECRETS, space-separated, so either side of a rotation verifies). Posted to the booking’s ' +
  '`callbackUrl`, else MASKLINE_EVENTS_URL; in order per booking, at least once (dedupe by `webhook-id`), retried ' +
  'with backoff for 25 hours on a network error, a 5xx, 408 or 429 (Retry-After honoured up to 10 minutes); any ' +
  'other 4xx and 3xx fail the delivery at once.';

export const eventWebhooks = Object.fromEntries(
  BOOKING_EVENT_TYPES.map((type) => [
    type,
    {
      post: {
        operationId: `event_${type.replace('.', '_')}`,
        tags: ['events'],
        summary: BODIES[type].summary,
        description: SIGNATURE,
        parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({
          name,
          in: 'header',
          required: true,
          schema: { type: 'string' },
        })),
        requestBody: { required: true, content: json(ref(schemaName(type))) },
        responses: {
          '2XX': { description: 'Taken: the delivery is done.' },
          default: { description: 'Not taken: retried, or failed (see the description).' },
        },
      },
    },
  ]),
);

export const listBookings = {
  operationId: 'listBookings',
  tags: ['bookings'],
  summary: 'List bookings, newest first, from Temporal’s visibility',
  description:
    'Visibility is eventually consistent: a booking appears, and its status changes, a moment after the fact. ' +
    'A bookingId refused and tried again is listed once per run. Parties are not listed (read the booking).',
  security,
  parameters: [
    query('status', 'Only bookings in this status.', ref('BookingStatus')),
    query('virtualNumber', 'Only bookings holding (or that held) this number.', { type: 'string' }),
    query(
      'partyRole',
      'Only bookings one of whose parties has this role (e.g. `courier`). Bookings created before this filter ' +
        'existed are not found by it.',
      { type: 'string', minLength: 1, maxLength: 64 },
    ),
    query('createdFrom', 'Created at or after.', { type: 'string', format: 'date-time' }),
    query('createdBefore', 'Created before.', { type: 'string', format: 'date-time' }),
    ...pageParameters,
  ],
  responses: {
    '200': { description: 'A page of bookings.', content: json(ref('BookingList')) },
    '400': invalidQuery,
    '401': unauthorized,
    '500': internalError,
    '503': temporalUnavailable,
  },
};

export const numberListParameters = [
  query('status', 'Only numbers in this status.', ref('NumberStatus')),
  query('country', 'Only numbers of this country (ISO 3166-1 alpha-2).', { type: 'string', pattern: '^[A-Za-z]{2}$' }),
  ...pageParameters,
];
export const numberListInvalid = invalidQuery;

export const eventPaths = {
  '/v1/bookings/{bookingId}/events': {
    get: {
      operationId: 'listBookingEvents',
      tags: ['events'],
      summary: "A booking's events, oldest first, each with its delivery's outcome",
      security,
      parameters: [bookingIdParameter],
      responses: {
        '200': { description: 'The events (the latest 200 of a booking).', content: json(ref('BookingEventList')) },
        '401': unauthorized,
        '404': errors('There is no booking with this id.', ['booking_not_found']),
        '500': internalError,
        '503': temporalUnavailable,
      },
    },
  },
  '/v1/bookings/{bookingId}/events/{eventId}/redeliver': {
    post: {
      operationId: 'redeliverBookingEvent',
      tags: ['events'],
      summary: 'Send one event again, with its id, after those still owed',
      security,
      parameters: [
        bookingIdParameter,
        { name: 'eventId', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
      ],
      responses: {
        '202': {
          description: 'Queued: the event and its delivery, now pending.',
          content: json(ref('BookingEventRecord')),
        },
        '401': unauthorized,
        '404': errors('No such booking, or no such event of it.', ['booking_not_found', 'event_not_found']),
        '500': internalError,
        '503': temporalUnavailable,
      },
    },
  },
};

export const eventComponentSchemas = {
  ...eventSchemas,
  EventParty: party,
  BookingEvent: { oneOf: BOOKING_EVENT_TYPES.map((type) => ref(schemaName(type))) },
  EventDelivery: {
    type: 'object',
    required: ['status', 'attempts', 'responseStatus', 'error', 'settledAt', 'redeliveries'],
    additionalProperties: false,
    properties: {
      status: {
        enum: ['pending', 'delivered', 'failed', 'not_configured'],
        description: '`not_configured`: neither the booking nor the deployment names a receiver.',
      },
      attempts: { type: 'integer', minimum: 0, description: 'Attempts of the delivery that settled it.' },
      responseStatus: { type: ['integer', 'null'], description: "The receiver's status of the last attempt." },
      error: { type: ['string', 'null'], description: 'Why it failed (never the receiver’s body).' },
      settledAt: nullable(ref('Timestamp')),
      redeliveries: { type: 'integer', minimum: 0 },
    },
  },
  BookingEventRecord: {
    type: 'object',
    required: ['event', 'delivery'],
    additionalProperties: false,
    properties: { event: ref('BookingEvent'), delivery: ref('EventDelivery') },
  },
  BookingEventList: {
    type: 'object',
    required: ['bookingId', 'events'],
    additionalProperties: false,
    properties: { bookingId: { type: 'string' }, events: { type: 'array', items: ref('BookingEventRecord') } },
  },
  BookingSummary: {
    type: 'object',
    required: ['bookingId', 'status', 'virtualNumber', 'createdAt', 'running'],
    additionalProperties: false,
    properties: {
      bookingId: { type: 'string' },
      status: nullable(ref('BookingStatus')),
      virtualNumber: nullable(ref('E164')),
      createdAt: nullable(ref('Timestamp')),
      running: { type: 'boolean', description: 'Whether its workflow still runs.' },
    },
  },
  BookingList: {
    type: 'object',
    required: ['bookings', 'nextCursor'],
    additionalProperties: false,
    properties: {
      bookings: { type: 'array', items: ref('BookingSummary') },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null at the end.' },
    },
  },
};
