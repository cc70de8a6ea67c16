import { z } from 'zod';
import { PIN_DIGITS } from '../domain/pin';
import { BOOKING_ERRORS, type BookingErrorCode } from '../bookings/errors';
import { BOOKING_LIMITS, MAX_PARTIES } from '../domain/booking';
import { bookingIdSchema, bookingRequestSchema, numberRequestSchema, partySchema, phoneNumberSchema } from './requests';
import { codecPayloadSchema, codecPayloadsSchema } from './routes/codec';
import {
  eventComponentSchemas,
  eventPaths,
  eventWebhooks,
  listBookings,
  numberListInvalid,
  numberListParameters,
} from './openapiEvents';
import { operationsComponentSchemas, operationsPaths } from './openapiOperations';
import { outOfSessionComponentSchemas, outOfSessionWebhooks } from './openapiOutOfSession';

/**
 * The OpenAPI 3.1 description of Maskline's HTTP API (served at /openapi.json).
 *
 * The request schemas are generated from the zod schemas that validate the requests (zod 4's own
 * z.toJSONSchema, in its `input` mode: what a client sends, before defaults and transforms), and the booking
 * error codes with their statuses come from the catalogue (src/bookings/errors.ts); the rest is written by hand
 * from the implementation. Held to it by test/http.openapi.test.ts, which validates every answer of the running
 * server against this document. Shapes the implementation fixes are closed (`additionalProperties: false`) so
 * that a field added or renamed in the code fails that test until it is described here. Request schemas stay
 * open: the API ignores fields it does not know.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A component schema without the keys that only a standalone JSON Schema document carries. */
function asComponent(schema: object): object {
  const { $schema: _dialect, $id: _id, ...component } = schema as Record<string, unknown>;
  return component;
}

const requestSchemas = z.registry<{ id: string }>();
requestSchemas.add(phoneNumberSchema, { id: 'PhoneNumberInput' });
requestSchemas.add(partySchema, { id: 'PartyInput' });
requestSchemas.add(bookingRequestSchema, { id: 'BookingRequest' });
requestSchemas.add(numberRequestSchema, { id: 'NumberRequest' });
requestSchemas.add(codecPayloadSchema, { id: 'CodecPayload' });
requestSchemas.add(codecPayloadsSchema, { id: 'CodecPayloads' });

// A transform (the phone number's normalisation) has no JSON Schema; in input mode its input side is described.
const generated = Object.fromEntries(
  Object.entries(
    z.toJSONSchema(requestSchemas, { io: 'input', uri: (id) => `#/components/schemas/${id}` }).schemas,
  ).map(([id, schema]) => [id, asComponent(schema)]),
);
const bookingId = asComponent(z.toJSONSchema(bookingIdSchema, { io: 'input' }));
const json = (schema: object) => ({ 'application/json': { schema } });

// Every error answer is `{"error": {"code", "message"}}`; each response lists the codes it can carry.
const errorSchema = (codes: readonly string[]) => ({
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: { allOf: [ref('ErrorDetail')], properties: { code: { enum: codes } } },
  },
});

const errorAnswer = (description: string, codes: readonly string[], headers?: object) => ({
  description: `${description} Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
  ...(headers ? { headers } : {}),
  content: json(errorSchema(codes)),
});

// An answer to a CALL_ACTION webhook is a callflow whatever its status: should 8x8 act on an error body, the
// caller hears the notice rather than silence.
const callActionErrorAnswer = (description: string, codes: readonly string[]) => ({
  description: `${description} The body carries the notice callflow next to the error. Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
  content: json({
    type: 'object',
    required: ['error', 'callflow'],
    additionalProperties: false,
    properties: {
      error: { allOf: [ref('ErrorDetail')], properties: { code: { enum: codes } } },
      clientActionId: { type: 'string' },
      callflow: ref('Callflow'),
    },
  }),
});

/**
 * The answer to booking refusals that share a status, as the catalogue says: its status, Retry-After where the
 * request may succeed later, and (unless the route says it in its own words) each code's meaning.
 */
function bookingRefusal(codes: readonly BookingErrorCode[], description?: string) {
  const [first, ...others] = codes.map((code) => BOOKING_ERRORS[code]);
  if (!first || others.some((other) => other.status !== first.status || other.retry !== first.retry)) {
    throw new Error(`booking errors ${codes.join(', ')} are not answered alike`);
  }
  const meaning = description ?? codes.map((code) => `\`${code}\`: ${BOOKING_ERRORS[code].description}.`).join(' ');
  return {
    [String(first.status)]: errorAnswer(
      first.retry ? `${meaning} Try again after Retry-After.` : meaning,
      codes,
      first.retry ? retryAfter : undefined,
    ),
  };
}

/** An 8x8 webhook of one type: the envelope, and the payload fields Maskline reads (others are allowed). */
const eightByEightWebhook = (eventType: string, required: readonly string[], properties: object) => ({
  allOf: [ref('EightByEightWebhook')],
  required: ['eventType', 'payload'],
  properties: { eventType: { const: eventType }, payload: { type: 'object', required, properties } },
});

const FORBIDDEN_SOURCE =
  'The request comes from an address off the webhook allow-list (MASKLINE_WEBHOOK_ALLOWED_SOURCES; checked before the secret, only when the list is set).';

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'string', examples: ['5'] } },
};

const apiKeySecurity = [{ apiKey: [] }];
const webhookSecurity = [{ webhookSecret: [] }];
const open: never[] = [];

const pathParameter = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', minLength: 1 },
});

const bookingIdParameter = pathParameter('bookingId', "The booking platform's id of the booking.");

// Answers every route that reads a JSON body can give before the route itself runs.
const bodyAnswers = {
  '413': { $ref: '#/components/responses/PayloadTooLarge' },
  '415': { $ref: '#/components/responses/UnsupportedContentEncoding' },
};
const callActionBodyAnswers = {
  '413': callActionErrorAnswer('The request body is larger than 64 KB.', ['payload_too_large']),
  '415': callActionErrorAnswer('The request body has a Content-Encoding other than identity, gzip, deflate or br.', [
    'unsupported_media_type',
  ]),
};
const internalError = { '500': { $ref: '#/components/responses/InternalError' } };
const storeUnavailable = { '503': { $ref: '#/components/responses/StoreUnavailable' } };

const booking = {
  get: listBookings,
  post: {
    operationId: 'createBooking',
    tags: ['bookings'],
    summary: 'Create a booking: pair two (up to five) parties through a virtual number',
    description:
      'Creates the booking and answers once it holds a virtual number. Idempotent on `bookingId`: repeating the ' +
      'request with the same parties in the same roles (and the same `reach`) answers 200 with the same booking ' +
      '(also after it has ended); the same `bookingId` with other parties, or another `reach`, is a 409. A refused booking (409 `no_number_available`, ' +
      '503 `allocation_failed`) holds nothing, and its `bookingId` may be tried again.',
    security: apiKeySecurity,
    requestBody: { required: true, content: json(ref('BookingRequest')) },
    responses: {
      '201': { description: 'The booking was created and holds a virtual number.', content: json(ref('Booking')) },
      '200': {
        description: 'A repeat of the request that created this booking; the booking as it is now.',
        content: json(ref('Booking')),
      },
      '400': errorAnswer('The body is not valid JSON, or a field is missing or invalid (the message names it).', [
        'invalid_request',
        'invalid_json',
      ]),
      '401': { $ref: '#/components/responses/Unauthorized' },
      ...bookingRefusal(
        ['booking_not_found'],
        'The bookingId belongs to a booking that has ended and whose state could not be read.',
      ),
      ...bookingRefusal(['booking_conflict', 'no_number_available']),
      ...bodyAnswers,
      ...internalError,
      ...bookingRefusal(['allocation_failed', 'temporal_unavailable', 'overloaded']),
    },
  },
};

const bookingById = {
  get: {
    operationId: 'getBooking',
    tags: ['bookings'],
    summary: 'Read a booking: its status, virtual number and calls',
    description: 'Refused and ended bookings can be read too, for as long as Temporal keeps their history.',
    security: apiKeySecurity,
    parameters: [bookingIdParameter],
    responses: {
      '200': { description: 'The booking.', content: json(ref('Booking')) },
      '401': { $ref: '#/components/responses/Unauthorized' },
      ...bookingRefusal(['booking_not_found'], 'There is no booking with this id.'),
      ...internalError,
      '503': { $ref: '#/components/responses/TemporalUnavailable' },
    },
  },
};

const closeBooking = (action: 'complete' | 'cancel') => ({
  post: {
    operationId: `${action}Booking`,
    tags: ['bookings'],
    summary:
      action === 'complete'
        ? 'Complete a booking: calls keep connecting for its grace period, then the number is released'
        : 'Cancel a booking: the number is released at once',
    description:
      (action === 'complete'
        ? 'Accepted for an active booking (status becomes `completing`); repeating it while completing is ' +
          'accepted again. Refused once the booking has ended or was cancelled.'
        : 'Accepted for an active or completing booking (status becomes `cancelled`); repeating it while the ' +
          'cancellation is under way is accepted again. Refused once the booking has ended.') +
      ' No request body is needed; one that is sent must be JSON.',
    security: apiKeySecurity,
    parameters: [bookingIdParameter],
    responses: {
      '202': { description: 'Accepted: the booking is closing.', content: json(ref('BookingClosing')) },
      '400': errorAnswer('A request body was sent and is not valid JSON.', ['invalid_json']),
      '401': { $ref: '#/components/responses/Unauthorized' },
      ...bookingRefusal(['booking_not_found'], 'There is no booking with this id.'),
      ...bookingRefusal(['booking_closed'], 'The booking has already ended (or, for complete, was cancelled).'),
      ...bodyAnswers,
      ...internalError,
      '503': { $ref: '#/components/responses/TemporalUnavailable' },
    },
  },
});

const numbers = {
  post: {
    operationId: 'addNumber',
    tags: ['numbers'],
    summary: 'Add a virtual number to the pool',
    description: 'The number becomes `active`: allocatable to new bookings.',
    security: apiKeySecurity,
    requestBody: { required: true, content: json(ref('NumberRequest')) },
    responses: {
      '201': { description: 'The number, as now in the pool.', content: json(ref('PoolNumber')) },
      '400': errorAnswer('The body is not valid JSON, or a field is missing or invalid (the message names it).', [
        'invalid_request',
        'invalid_json',
      ]),
      '401': { $ref: '#/components/responses/Unauthorized' },
      '409': errorAnswer('The number is already in the pool.', ['number_exists']),
      ...bodyAnswers,
      ...internalError,
      ...storeUnavailable,
    },
  },
  get: {
    operationId: 'listNumbers',
    tags: ['numbers'],
    summary: 'List the pool, in number order, a page at a time',
    security: apiKeySecurity,
    parameters: numberListParameters,
    responses: {
      '200': { description: 'A page of the pool.', content: json(ref('NumberList')) },
      '400': numberListInvalid,
      '401': { $ref: '#/components/responses/Unauthorized' },
      ...internalError,
      ...storeUnavailable,
    },
  },
};

const numberParameter = pathParameter(
  'number',
  'The virtual number, URL-encoded (`%2B6560000001`); the leading `+` may be omitted.',
);

const numberByValue = {
  delete: {
    operationId: 'drainNumber',
    tags: ['numbers'],
    summary: 'Drain a virtual number: no new bookings, the bookings holding it keep it',
    description:
      'The number stays in the pool with status `draining`. Repeating the request is harmless. Neither the sync ' +
      'nor 8x8 undoes a drain; `POST /v1/numbers/{number}/restore` does.',
    security: apiKeySecurity,
    parameters: [numberParameter],
    responses: {
      '202': { description: 'The number, now draining.', content: json(ref('PoolNumber')) },
      '400': errorAnswer('The path does not name a valid phone number.', ['invalid_request']),
      '401': { $ref: '#/components/responses/Unauthorized' },
      '404': errorAnswer('The number is not in the pool.', ['number_not_found']),
      ...internalError,
      ...storeUnavailable,
    },
  },
};

const restoreNumber = {
  post: {
    operationId: 'restoreNumber',
    tags: ['numbers'],
    summary: 'Give a drained or disabled virtual number back to the pool: it takes new bookings again',
    description:
      'The one way back from a drain (the sync never undoes one). The number becomes `active`; repeating the ' +
      "request is harmless. The next sync judges it by 8x8's word like any other number: one that 8x8 reports " +
      'not Active or unhealthy is disabled again, and one that a complete listing leaves out drains again. No ' +
      'request body is needed; one that is sent must be JSON.',
    security: apiKeySecurity,
    parameters: [numberParameter],
    responses: {
      '200': { description: 'The number, now active.', content: json(ref('PoolNumber')) },
      '400': errorAnswer(
        'The path does not name a valid phone number, or a request body was sent and is not valid JSON.',
        ['invalid_request', 'invalid_json'],
      ),
      '401': { $ref: '#/components/responses/Unauthorized' },
      '404': errorAnswer('The number is not in the pool.', ['number_not_found']),
      ...bodyAnswers,
      ...internalError,
      ...storeUnavailable,
    },
  },
};

const webhookReceiptAnswers = (operationId: string, summary: string, description: string, body: string) => ({
  post: {
    operationId,
    tags: ['8x8 webhooks'],
    summary,
    description,
    security: webhookSecurity,
    requestBody: { required: true, content: json(ref(body)) },
    responses: {
      '200': { description: 'Received (stored before anything else).', content: json(ref('WebhookReceipt')) },
      '400': errorAnswer('The body is not valid JSON, or not a webhook of this type (the message names the field).', [
        'invalid_webhook',
        'invalid_json',
      ]),
      '401': { $ref: '#/components/responses/WebhookUnauthorized' },
      '403': { $ref: '#/components/responses/ForbiddenSource' },
      ...bodyAnswers,
      ...internalError,
      ...storeUnavailable,
    },
  },
});

const bookingData = {
  delete: {
    operationId: 'eraseBookingData',
    tags: ['bookings'],
    summary: "Erase what is left of an ended booking: its call records and its workflow's history",
    description:
      'Deletes the call sessions and call events of the booking from the store, and asks Temporal to delete the ' +
      "history of every run of the booking's workflow (Temporal does it in the background, within about a " +
      'minute; until then the booking may still be read). Refused while the booking is live (active or ' +
      'completing, or still holding its number). The pairing itself was already deleted when the number was ' +
      'released. After an erasure the booking is unknown (404).',
    security: apiKeySecurity,
    parameters: [bookingIdParameter],
    responses: {
      '202': {
        description: 'Erased from the store; the history deletion is under way.',
        content: json(ref('BookingErasure')),
      },
      '401': { $ref: '#/components/responses/Unauthorized' },
      ...bookingRefusal(['booking_not_found'], 'There is no booking with this id (or it has already been erased).'),
      ...bookingRefusal(['booking_live'], 'The booking is live: complete or cancel it, and let it end, first.'),
      ...internalError,
      '503': errorAnswer(
        'The booking service or the store cannot be reached. Nothing was erased, or the erasure may be repeated; try again after Retry-After.',
        ['temporal_unavailable', 'store_unavailable'],
        retryAfter,
      ),
    },
  },
};

const codecSecurity = [{ codecToken: [] }];

const codecOperation = (operation: 'decode' | 'encode') => ({
  post: {
    operationId: `${operation}Payloads`,
    tags: ['codec'],
    summary:
      operation === 'decode'
        ? 'Decrypt Temporal payloads (for the Temporal UI and CLI)'
        : 'Encrypt Temporal payloads (for the Temporal UI and CLI)',
    description:
      "The Temporal codec server protocol, as the UI's `--ui-codec-endpoint` and the CLI's `--codec-endpoint` " +
      'call it with the base `/codec`. ' +
      (operation === 'decode'
        ? 'Encrypted payloads (`encoding: binary/encrypted`) come back as they were before encryption; others unchanged.'
        : 'Every payload comes back encrypted with the newest key of MASKLINE_ENCRYPTION_KEYS.') +
      ' Bodies up to 4 MB. CORS: the origins of MASKLINE_CODEC_CORS_ORIGINS, with credentials.',
    security: codecSecurity,
    parameters: [
      {
        name: 'X-Namespace',
        in: 'header',
        required: false,
        description: 'Sent by the Temporal UI and CLI; all namespaces share the keys.',
        schema: { type: 'string' },
      },
    ],
    requestBody: { required: true, content: json(ref('CodecPayloads')) },
    responses: {
      '200': { description: `The payloads, ${operation}d, in the same order.`, content: json(ref('CodecPayloads')) },
      '400': errorAnswer('The body is not JSON, or not `{"payloads": [...]}` with base64 fields.', [
        'invalid_json',
        'invalid_request',
      ]),
      '401': errorAnswer(
        'The Authorization header does not carry the codec token (or MASKLINE_CODEC_TOKEN is unset outside development mode, which closes the endpoint).',
        ['unauthorized'],
        { 'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { const: 'Bearer' } } },
      ),
      '413': errorAnswer('The request body is larger than 4 MB.', ['payload_too_large']),
      ...(operation === 'decode'
        ? {
            '422': errorAnswer(
              'A payload cannot be decrypted: its key is not among MASKLINE_ENCRYPTION_KEYS, or it was altered.',
              ['undecodable_payload'],
            ),
          }
        : {}),
      ...internalError,
    },
  },
  options: {
    operationId: `${operation}PayloadsPreflight`,
    tags: ['codec'],
    summary: "CORS preflight of the Temporal UI's browser",
    security: open,
    responses: {
      '204': {
        description:
          'For an allowed origin: Access-Control-Allow-Origin (that origin), -Allow-Credentials `true`, ' +
          '-Allow-Methods `POST, OPTIONS`, -Allow-Headers `Content-Type, Authorization, X-Namespace`. For any other ' +
          'origin, none of them.',
      },
    },
  },
});

export const openApiDocument = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
  info: {
    title: 'Maskline',
    version: '0.1.0',
    summary: 'Number masking for bookings over 8x8 Voice',
    description:
      'A booking platform pairs the parties of a booking (rider and driver, say; up to five) through a virtual number ' +
      'from the pool; while the booking is live, a party calling the virtual number is put through to the ' +
      'other (or, in a booking of more, to the one it picks from a menu), who sees the virtual number as caller ' +
      "ID. 8x8 asks how to route each call through Maskline's " +
      'webhooks.\n\nEvery error answer is `{"error": {"code", "message"}}`: the code is stable and meant for ' +
      'programs, the message for developers. Request bodies are JSON (whatever the Content-Type), at most 64 KB. ' +
      'Development mode (MASKLINE_DEVELOPMENT_MODE=true, which only `npm start` sets): a credential left unset is ' +
      'not checked. Outside it the service does not start without its credentials.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  tags: [
    { name: 'bookings', description: "The booking platform's API: masked pairings." },
    { name: 'numbers', description: 'The pool of virtual numbers.' },
    { name: '8x8 webhooks', description: '8x8 Voice API webhooks: call routing and call records.' },
    { name: 'operations', description: "Health, readiness, this document, and the operators' summary and dashboard." },
    { name: 'codec', description: "The Temporal UI's codec server: Temporal payloads are encrypted at rest." },
    { name: 'events', description: 'Booking events Maskline posts to the platform, and reading them back.' },
  ],
  webhooks: { ...eventWebhooks, ...outOfSessionWebhooks },
  paths: {
    '/healthz': {
      get: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        security: open,
        responses: { '200': { description: 'Alive.', content: json(ref('Health')) } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Readiness: the store and Temporal answer',
        security: open,
        responses: {
          '200': { description: 'Ready: both answer.', content: json(ref('Ready')) },
          '503': {
            description: 'Not ready: `checks` and the message name what does not answer. Code: `not_ready`.',
            content: json(ref('NotReady')),
          },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: "This server's metrics, in Prometheus's text format",
        description:
          'Call-action latency and outcomes, booking creations by result and latency, the pool by status and ' +
          'country, live bookings, pending and redelivered call events, Temporal reachability, webhook refusals, ' +
          "and Node.js's process metrics. Store figures are read at most every 15 s. See the README's Metrics.",
        security: [{ metricsToken: [] }],
        responses: {
          '200': {
            description: 'The metrics.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '401': errorAnswer('The Authorization header is missing or does not carry the metrics token.', [
            'unauthorized',
          ]),
          '404': errorAnswer(
            'MASKLINE_METRICS_TOKEN is unset outside development mode: the route is closed, as if absent.',
            ['not_found'],
          ),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        tags: ['operations'],
        summary: 'This document',
        security: open,
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 document of this API.',
            content: json({
              type: 'object',
              required: ['openapi', 'info', 'paths'],
              properties: { openapi: { const: '3.1.0' } },
            }),
          },
        },
      },
    },
    '/v1/numbers': numbers,
    '/v1/numbers/{number}': numberByValue,
    '/v1/numbers/{number}/restore': restoreNumber,
    '/v1/bookings': booking,
    '/v1/bookings/{bookingId}': bookingById,
    '/v1/bookings/{bookingId}/complete': closeBooking('complete'),
    '/v1/bookings/{bookingId}/cancel': closeBooking('cancel'),
    '/webhooks/8x8/call-action': {
      post: {
        operationId: 'answerCallAction',
        tags: ['8x8 webhooks'],
        summary: 'Route a call: answer a CALL_ACTION webhook with a callflow',
        description:
          'A caller who shares a live booking with the dialled virtual number is put through to the other party ' +
          '(`makeCall`, the virtual number as caller ID; with `callRecording: true` for a booking made with ' +
          '`record: true`). Anyone else, or anyone when the store does not answer in ' +
          'time, hears the notice and the call ends (`say`, `hangup`). A follow-up CALL_ACTION (not ' +
          '`CALL_RECEIVED`) is answered with `hangup`. Every answer, error answers included, carries a callflow.',
        security: webhookSecurity,
        requestBody: { required: true, content: json(ref('CallActionWebhook')) },
        responses: {
          '200': { description: 'The callflow 8x8 runs on the call.', content: json(ref('CallActionAnswer')) },
          '400': callActionErrorAnswer(
            'The body is not valid JSON, or not a CALL_ACTION webhook (the message names the field).',
            ['invalid_webhook', 'invalid_json'],
          ),
          '401': callActionErrorAnswer('The Authorization header is missing or is not the webhook secret.', [
            'unauthorized',
          ]),
          '403': callActionErrorAnswer(FORBIDDEN_SOURCE, ['forbidden_source']),
          ...callActionBodyAnswers,
          ...internalError,
        },
      },
    },
    '/webhooks/8x8/call-status': webhookReceiptAnswers(
      'recordCallStatus',
      "Record a call leg's status (CALL_STATUS webhook)",
      "Stored, then told to the call's booking; a repeat of an event (same `eventId`) changes nothing.",
      'CallStatusWebhook',
    ),
    '/webhooks/8x8/session-summary': webhookReceiptAnswers(
      'recordSessionSummary',
      "Record a call session's summary (SESSION_SUMMARY webhook)",
      "Stored, then told to the call's booking; one summary per session, a repeat changes nothing.",
      'SessionSummaryWebhook',
    ),
    '/webhooks/8x8/call-recording-status': webhookReceiptAnswers(
      'recordCallRecording',
      'Record that a call recording was uploaded (CALL_RECORDING_STATUS webhook, type VRU)',
      "Stored, then told to the booking the session was routed for: the recording is shown on the booking's call " +
        'and announced as `call.recording_available`. A repeat of a recording (same `recordingId`) changes nothing.',
      'CallRecordingStatusWebhook',
    ),
    '/webhooks/8x8': {
      post: {
        operationId: 'receiveWebhook',
        tags: ['8x8 webhooks'],
        summary: 'Any 8x8 webhook, dispatched on `eventType`',
        description:
          'For 8x8 setups that register one URL for every webhook type. CALL_ACTION is answered with a callflow, ' +
          'CALL_STATUS, SESSION_SUMMARY and CALL_RECORDING_STATUS with a receipt, as on their own URLs. ' +
          'VIRTUAL_NUMBER_UPDATE brings the ' +
          'number pool in line with 8x8, by the rules of `maskline numbers sync` (a SNAPSHOT also drains the numbers ' +
          'it does not list, when its `totalNumbers` says it lists them all); one about another subaccount is ' +
          'received and not acted on (`outcome: ignored`). Unlike ' +
          '`/webhooks/8x8/call-action`, error answers here carry no callflow.',
        security: webhookSecurity,
        requestBody: { required: true, content: json(ref('AnyWebhook')) },
        responses: {
          '200': {
            description: 'A callflow for CALL_ACTION, else a receipt.',
            content: json({
              oneOf: [
                ref('CallActionAnswer'),
                ref('WebhookReceipt'),
                ref('NumberUpdateReceipt'),
                ref('IgnoredWebhookReceipt'),
              ],
            }),
          },
          '400': errorAnswer(
            'The body is not valid JSON, has no or an unknown `eventType`, or is not a valid webhook of its type.',
            ['invalid_webhook', 'unknown_event_type', 'invalid_json'],
          ),
          '401': { $ref: '#/components/responses/WebhookUnauthorized' },
          '403': { $ref: '#/components/responses/ForbiddenSource' },
          ...bodyAnswers,
          ...internalError,
          ...storeUnavailable,
        },
      },
    },
    '/v1/bookings/{bookingId}/data': bookingData,
    ...eventPaths,
    ...operationsPaths,
    '/codec/decode': codecOperation('decode'),
    '/codec/encode': codecOperation('encode'),
  },
  components: {
    securitySchemes: {
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        description:
          "The booking platform's credential: `Authorization: Bearer <MASKLINE_API_KEY>`. Required on every `/v1/` path.",
      },
      webhookSecret: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description:
          "The `httpAuthHeader` registered with 8x8's webhooks, sent verbatim: `Authorization: <MASKLINE_WEBHOOK_SECRET>` " +
          '(the whole secret as registered, whatever it starts with, e.g. `Bearer <token>`; a `Bearer ` put in front of ' +
          'it is tolerated). When MASKLINE_WEBHOOK_ALLOWED_SOURCES is set, ' +
          'webhooks are also accepted only from the listed addresses.',
      },
      metricsToken: {
        type: 'http',
        scheme: 'bearer',
        description:
          "The metrics scraper's credential: `Authorization: Bearer <MASKLINE_METRICS_TOKEN>`. Unset: open in " +
          'development mode, 404 otherwise.',
      },
      codecToken: {
        type: 'http',
        scheme: 'bearer',
        description:
          "The codec endpoint's own credential: `Authorization: Bearer <MASKLINE_CODEC_TOKEN>`. Unset: open in " +
          'development mode, closed otherwise.',
      },
    },
    responses: {
      Unauthorized: errorAnswer(
        'The Authorization header is missing or does not carry the API key.',
        ['unauthorized'],
        {
          'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { const: 'Bearer' } },
        },
      ),
      WebhookUnauthorized: errorAnswer('The Authorization header is missing or is not the webhook secret.', [
        'unauthorized',
      ]),
      ForbiddenSource: errorAnswer(FORBIDDEN_SOURCE, ['forbidden_source']),
      PayloadTooLarge: errorAnswer('The request body is larger than 64 KB.', ['payload_too_large']),
      UnsupportedContentEncoding: errorAnswer(
        'The request body has a Content-Encoding other than identity, gzip, deflate or br.',
        ['unsupported_media_type'],
      ),
      InternalError: errorAnswer('A fault on our side (a bug); logged.', ['internal_error']),
      StoreUnavailable: errorAnswer(
        'The store cannot be reached. Nothing was changed; try again after Retry-After.',
        ['store_unavailable'],
        retryAfter,
      ),
      TemporalUnavailable: bookingRefusal(['temporal_unavailable'], 'The booking service cannot be reached.')['503'],
    },
    schemas: {
      ...generated,
      ...eventComponentSchemas,
      ...operationsComponentSchemas,
      ...outOfSessionComponentSchemas,
      ErrorDetail: {
        type: 'object',
        required: ['code', 'message', 'requestId'],
        additionalProperties: false,
        properties: {
          code: {
            type: 'string',
            description: `Stable, for programs. Known codes: ${[
              '`invalid_request`',
              '`invalid_json` (not JSON, or a `__proto__` or `constructor.prototype` key, refused as prototype poisoning)',
              '`unauthorized`',
              '`not_found` (no such route: path, method, or spelling of the path)',
              '`number_exists`',
              '`number_not_found`',
              '`payload_too_large`',
              '`unsupported_media_type`',
              '`invalid_webhook`',
              '`unknown_event_type`',
              '`forbidden_source`',
              '`store_unavailable`',
              '`not_ready`',
              '`undecodable_payload`',
              '`event_not_found`',
              '`internal_error`',
              ...Object.keys(BOOKING_ERRORS).map((code) => `\`${code}\``),
            ].join(', ')}.`,
          },
          message: { type: 'string', description: 'For developers; names the offending field where there is one.' },
          requestId: {
            type: 'string',
            description:
              "The request's id, also in the X-Request-Id response header: the one the request sent in X-Request-Id " +
              '(up to 128 letters, digits and `-._:`), or one of ours. The access log names it.',
          },
        },
      },
      Error: {
        type: 'object',
        required: ['error'],
        additionalProperties: false,
        properties: { error: ref('ErrorDetail') },
      },
      E164: {
        type: 'string',
        pattern: '^\\+[1-9][0-9]{1,14}$',
        description: 'A phone number in E.164 form, the one form Maskline answers with.',
        examples: ['+6591234567'],
      },
      Timestamp: { type: 'string', format: 'date-time', examples: ['2025-01-31T08:00:00.000Z'] },
      Health: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: { status: { const: 'ok' } },
      },
      Ready: {
        type: 'object',
        required: ['status', 'checks'],
        additionalProperties: false,
        properties: {
          status: { const: 'ready' },
          checks: {
            type: 'object',
            required: ['store', 'temporal'],
            additionalProperties: false,
            properties: { store: { const: 'ok' }, temporal: { const: 'ok' } },
          },
        },
      },
      NotReady: {
        type: 'object',
        required: ['status', 'checks', 'error'],
        additionalProperties: false,
        properties: {
          status: { const: 'unavailable' },
          checks: {
            type: 'object',
            required: ['store', 'temporal'],
            additionalProperties: false,
            properties: { store: ref('CheckResult'), temporal: ref('CheckResult') },
          },
          error: { allOf: [ref('ErrorDetail')], properties: { code: { const: 'not_ready' } } },
        },
      },
      CheckResult: { enum: ['ok', 'unavailable'] },
      NumberStatus: {
        enum: ['active', 'disabled', 'draining'],
        description:
          '`active`: given to new bookings. `disabled` (8x8 says it is not usable) and `draining`: no new bookings; ' +
          'the bookings that hold it keep it. A drain is for good, until an operator restores the number.',
      },
      PoolNumber: {
        type: 'object',
        required: ['number', 'countryCode', 'referenceId', 'status', 'liveBookings', 'createdAt', 'updatedAt'],
        additionalProperties: false,
        properties: {
          number: ref('E164'),
          countryCode: { type: ['string', 'null'], pattern: '^[A-Z]{2}$' },
          referenceId: { type: ['string', 'null'] },
          status: ref('NumberStatus'),
          use: {
            const: 'pin',
            description:
              'Present for a number of the PIN set: only PIN-fallback bookings get it, many at once, each with its PIN.',
          },
          liveBookings: { type: 'integer', minimum: 0, description: 'Live bookings holding this number.' },
          createdAt: ref('Timestamp'),
          updatedAt: ref('Timestamp'),
        },
      },
      NumberList: {
        type: 'object',
        required: ['numbers', 'nextCursor'],
        additionalProperties: false,
        properties: {
          numbers: { type: 'array', items: ref('PoolNumber') },
          nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null at the end.' },
        },
      },
      Party: {
        type: 'object',
        required: ['role', 'number'],
        additionalProperties: false,
        properties: { role: { type: 'string', minLength: 1, maxLength: 64 }, number: ref('E164') },
      },
      BookingStatus: {
        enum: ['allocating', 'active', 'completing', 'completed', 'cancelled', 'expired', 'refused'],
        description:
          '`allocating`: looking for a virtual number. `active`: the pairing is held and calls connect. ' +
          '`completing`: completed, calls still connect until `graceEndsAt`. `completed`, `cancelled`, `expired`: ' +
          'ended, the number is released. `refused`: no number was free for all its parties; nothing was held.',
      },
      CallRecord: {
        type: 'object',
        required: ['sessionId', 'callerRole', 'startedAt', 'status'],
        additionalProperties: false,
        description: 'A call between the parties, as 8x8 reported it. Roles only: never a phone number.',
        properties: {
          sessionId: { type: 'string', description: "8x8's call session id." },
          callerRole: { type: ['string', 'null'], description: 'The role of the party who called; null when unknown.' },
          calleeRole: {
            type: 'string',
            description:
              'In a booking of several parties, the role the caller chose from the menu; absent when the caller had ' +
              'one party to reach (the other one of two, or the one `reach` allows).',
          },
          startedAt: { type: 'string', description: 'When the call started, as 8x8 wrote it (ISO 8601 in practice).' },
          status: {
            type: 'string',
            description:
              "8x8's latest leg status (`CALL_CONNECTED`, ...) until the session's outcome (`COMPLETED`, `NO_ANSWER`, `BUSY`, `CANCELED`, `FAILED`, ...).",
          },
          endedAt: { type: 'string', description: 'When the session ended, as 8x8 wrote it; from the summary.' },
          durationSeconds: { type: 'number', minimum: 0, description: 'From the summary.' },
          recordings: {
            type: 'array',
            items: ref('CallRecording'),
            description: 'For a booking made with `record: true`: the recordings 8x8 reported uploaded, by id.',
          },
        },
      },
      CallRecording: {
        type: 'object',
        required: ['recordingId', 'status', 'fileUrl', 'durationSeconds', 'startedAt'],
        additionalProperties: false,
        description:
          "A reference to a recording 8x8 uploaded to the account's recording push destination; Maskline never " +
          'fetches or keeps the audio.',
        properties: {
          recordingId: { type: 'string' },
          status: { type: 'string', description: "8x8's word for it, e.g. `completed`." },
          fileUrl: { type: ['string', 'null'], description: "8x8's `externalFileUrl`, when it gave one." },
          durationSeconds: { type: ['number', 'null'], minimum: 0 },
          startedAt: { type: ['string', 'null'], description: "8x8's `startRecordingTime`." },
        },
      },
      Booking: {
        type: 'object',
        required: [
          'bookingId',
          'status',
          'virtualNumber',
          'parties',
          'expiresAt',
          'createdAt',
          'gracePeriodSeconds',
          'graceEndsAt',
          'endedAt',
          'calls',
        ],
        additionalProperties: false,
        properties: {
          bookingId,
          status: ref('BookingStatus'),
          virtualNumber: {
            anyOf: [ref('E164'), { type: 'null' }],
            description:
              'The number the parties call; null while allocating and for a refused booking. With `mode: "pin"`, a ' +
              'number of the PIN set, shared with other bookings: callers enter `pin` after dialling it.',
          },
          mode: {
            const: 'pin',
            description:
              'Present only for a PIN-fallback booking (`fallback: "pin"`, or MASKLINE_NUMBER_FALLBACK=pin, when no ' +
              'number was free for both parties). Absent: the booking has a number of its own.',
          },
          pin: {
            type: 'string',
            pattern: `^[0-9]{${PIN_DIGITS}}$`,
            description:
              'With `mode: "pin"`: the digits its parties enter after dialling `virtualNumber`; unique among the live ' +
              'bookings on that number, freed when the booking ends.',
          },
          parties: { type: 'array', minItems: 2, maxItems: MAX_PARTIES, items: ref('Party') },
          reach: {
            type: 'object',
            additionalProperties: { type: 'array', items: { type: 'string' }, maxItems: MAX_PARTIES - 1 },
            description:
              'Who may reach whom, by role, as the booking was created with (absent when it gave none: every party ' +
              'reaches every other one). A caller with several targets hears a menu of them, in this order.',
          },
          expiresAt: ref('Timestamp'),
          createdAt: ref('Timestamp'),
          gracePeriodSeconds: {
            type: 'integer',
            minimum: BOOKING_LIMITS.gracePeriodSeconds.min,
            maximum: BOOKING_LIMITS.gracePeriodSeconds.max,
          },
          graceEndsAt: { anyOf: [ref('Timestamp'), { type: 'null' }], description: 'Set once completed.' },
          endedAt: { anyOf: [ref('Timestamp'), { type: 'null' }], description: 'Set once ended (or refused).' },
          calls: { type: 'array', items: ref('CallRecord') },
        },
      },
      BookingClosing: {
        type: 'object',
        required: ['bookingId', 'status'],
        additionalProperties: false,
        properties: {
          bookingId: { type: 'string' },
          status: { enum: ['completing', 'cancelled'], description: 'The booking status after the request.' },
        },
      },
      Callflow: {
        type: 'array',
        minItems: 1,
        items: ref('CallflowAction'),
        description: "8x8 runs the actions in order (8x8 Voice API's callflow actions).",
      },
      CallActionAnswer: {
        type: 'object',
        required: ['callflow'],
        additionalProperties: false,
        properties: {
          clientActionId: { type: 'string', description: 'Echoed by 8x8 in the follow-up CALL_ACTION.' },
          callflow: ref('Callflow'),
        },
      },
      CallflowAction: {
        oneOf: [ref('MakeCallAction'), ref('SayAction'), ref('SayAndCaptureAction'), ref('HangupAction')],
      },
      MakeCallAction: {
        type: 'object',
        required: ['action', 'params'],
        additionalProperties: false,
        description: 'Puts the caller through to `destination`, showing `source` (the virtual number) as caller ID.',
        properties: {
          action: { const: 'makeCall' },
          params: {
            type: 'object',
            required: ['source', 'destination'],
            additionalProperties: false,
            properties: { source: ref('E164'), destination: ref('E164'), callRecording: { type: 'boolean' } },
          },
        },
      },
      SayAction: {
        type: 'object',
        required: ['action', 'params'],
        additionalProperties: false,
        description: 'Text-to-speech into the call.',
        properties: {
          action: { const: 'say' },
          params: {
            type: 'object',
            required: ['text', 'voiceProfile', 'repetition', 'speed'],
            additionalProperties: false,
            properties: {
              text: { type: 'string', minLength: 1, maxLength: 3000 },
              voiceProfile: { type: 'string', minLength: 1, examples: ['en-US-ZiraRUS'] },
              repetition: { type: 'integer', minimum: 1, maximum: 3 },
              speed: { type: 'integer', minimum: 1, maximum: 2 },
            },
          },
        },
      },
      SayAndCaptureAction: {
        type: 'object',
        required: ['action', 'params'],
        additionalProperties: false,
        description:
          "Asks the caller to press keys: a PIN (the answer's `clientActionId` then says `pin-<try>`) or a menu " +
          'choice of a booking of several parties (`menu`). 8x8 posts them back in a follow-up CALL_ACTION ' +
          '(`ACTION_COMPLETED`, `eventData`) with that `clientActionId`.',
        properties: {
          action: { const: 'sayAndCapture' },
          params: {
            type: 'object',
            required: [
              'promptMessage',
              'voiceProfile',
              'speed',
              'minDigits',
              'maxDigits',
              'digitTimeout',
              'overallTimeout',
              'completeOnHash',
              'noOfTries',
              'failureMessage',
            ],
            additionalProperties: false,
            properties: {
              promptMessage: { type: 'string', minLength: 1, maxLength: 3000 },
              voiceProfile: { type: 'string', minLength: 1, examples: ['en-US-ZiraRUS'] },
              speed: { type: 'integer', minimum: 1, maximum: 2 },
              minDigits: { type: 'integer', minimum: 1 },
              maxDigits: { type: 'integer', minimum: 1 },
              digitTimeout: { type: 'integer', minimum: 1, description: 'ms allowed between two key presses.' },
              overallTimeout: { type: 'integer', minimum: 1, description: 'ms allowed for the whole entry.' },
              completeOnHash: { type: 'boolean' },
              noOfTries: { type: 'integer', minimum: 1 },
              failureMessage: { type: 'string', minLength: 1, maxLength: 3000 },
            },
          },
        },
      },
      HangupAction: {
        type: 'object',
        required: ['action'],
        additionalProperties: false,
        description: 'Ends every leg of the session.',
        properties: { action: { const: 'hangup' }, params: { type: 'object', maxProperties: 0 } },
      },
      WebhookReceipt: {
        type: 'object',
        required: ['received', 'outcome'],
        additionalProperties: false,
        properties: {
          received: { const: true },
          outcome: {
            enum: ['delivered', 'duplicate', 'unmatched', 'booking_ended', 'pending'],
            description:
              "`delivered`: told to the call's booking. `duplicate`: already received; nothing changed. " +
              '`unmatched`: no booking has this call. `booking_ended`: kept with a booking that has ended. ' +
              '`pending`: stored; the booking is told once Temporal answers again.',
          },
        },
      },
      NumberUpdateReceipt: {
        type: 'object',
        required: ['received', 'outcome', 'numbers'],
        additionalProperties: false,
        description: 'What a VIRTUAL_NUMBER_UPDATE changed in the number pool.',
        properties: {
          received: { const: true },
          outcome: { const: 'applied' },
          numbers: {
            type: 'object',
            required: ['added', 'changed', 'draining', 'unchanged'],
            additionalProperties: false,
            properties: {
              added: { type: 'integer', minimum: 0, description: 'New Active numbers, now allocatable.' },
              changed: {
                type: 'integer',
                minimum: 0,
                description: 'Numbers disabled (not Active, or unhealthy) or active again.',
              },
              draining: {
                type: 'integer',
                minimum: 0,
                description:
                  'Numbers a SNAPSHOT no longer lists; only a SNAPSHOT whose `totalNumbers` says it is whole drains.',
              },
              unchanged: { type: 'integer', minimum: 0 },
            },
          },
        },
      },
      IgnoredWebhookReceipt: {
        type: 'object',
        required: ['received', 'outcome'],
        additionalProperties: false,
        properties: { received: { const: true }, outcome: { const: 'ignored' } },
      },
      EightByEightWebhook: {
        type: 'object',
        required: ['eventType'],
        description:
          "8x8's webhook envelope. Read liberally: fields not listed are allowed and ignored, as are optional fields " +
          'of an unusable shape. Phone numbers may come with or without `+`, or as JSON numbers.',
        properties: {
          namespace: { type: 'string', examples: ['VOICE'] },
          eventType: { type: 'string' },
          description: { type: 'string' },
          payload: {},
        },
      },
      EightByEightPhoneNumber: {
        type: ['string', 'number'],
        description: 'International number, `+` optional.',
        examples: ['6591234567'],
      },
      EightByEightCount: { type: ['number', 'string'], description: 'A number, or a numeric string.' },
      CallActionWebhook: eightByEightWebhook(
        'CALL_ACTION',
        ['callId', 'sessionId', 'callStatus', 'source', 'destination'],
        {
          eventId: { type: 'string' },
          callId: { type: 'string', minLength: 1 },
          sessionId: { type: 'string', minLength: 1 },
          subAccountId: { type: 'string' },
          callStatus: {
            type: 'string',
            minLength: 1,
            description: '`CALL_RECEIVED` for a new call; `ACTION_COMPLETED` after an action of ours.',
          },
          source: {
            type: ['string', 'number'],
            minLength: 1,
            description:
              "The caller's number; anything else (a withheld number, `anonymous`) is a caller who hears the notice.",
          },
          destination: { allOf: [ref('EightByEightPhoneNumber')], description: 'The virtual number dialled.' },
          clientActionId: { type: 'string' },
          eventData: {
            description:
              'Digits captured by the previous action: `{"dtmf": "..."}`, its JSON as a string, or the bare digits.',
          },
          timestamp: { type: 'string' },
        },
      ),
      CallStatusWebhook: eightByEightWebhook(
        'CALL_STATUS',
        ['eventId', 'callId', 'sessionId', 'callStatus', 'source', 'destination'],
        {
          eventId: { type: 'string', minLength: 1, description: 'Repeats of one eventId are recorded once.' },
          callId: { type: 'string', minLength: 1 },
          sessionId: { type: 'string', minLength: 1 },
          callStatus: { type: 'string', minLength: 1, examples: ['CALL_CONNECTED'] },
          callDirection: { type: 'string' },
          source: {
            type: ['string', 'number'],
            minLength: 1,
            description:
              "The leg's calling number; anything else (a withheld number, `anonymous`) is kept as unknown, and the event is still recorded.",
          },
          destination: {
            type: ['string', 'number'],
            minLength: 1,
            description: "The leg's called number; anything else is kept as unknown, as for `source`.",
          },
          timestamp: {
            type: 'string',
            description: "8x8's time of the change: a booking shows the status with the newest one.",
          },
          callDuration: ref('EightByEightCount'),
        },
      ),
      SessionLeg: {
        type: 'object',
        properties: {
          callId: { type: 'string' },
          callDirection: { type: 'string' },
          source: ref('EightByEightPhoneNumber'),
          destination: ref('EightByEightPhoneNumber'),
          initiatedTimestamp: { type: 'string' },
          connectedTimestamp: { type: 'string' },
          disconnectedTimestamp: { type: 'string' },
          callStatus: { type: 'string' },
          callDuration: ref('EightByEightCount'),
        },
      },
      SessionSummaryWebhook: eightByEightWebhook('SESSION_SUMMARY', ['sessionId', 'sessionStatus'], {
        sessionId: { type: 'string', minLength: 1, description: 'One summary per session is recorded.' },
        sessionStatus: {
          type: 'string',
          minLength: 1,
          description:
            '`COMPLETED`, `NO_ANSWER` (or `NO ANSWER`), `BUSY`, `CANCELED` (or `CANCELLED`), `FAILED`, `ERROR`, ...',
        },
        startTime: { type: 'string' },
        endTime: { type: 'string' },
        lastAction: { type: 'string' },
        callCount: ref('EightByEightCount'),
        errorDetails: {
          type: 'object',
          properties: { errorMsg: { type: 'string' }, errorCode: { type: ['integer', 'string'] } },
        },
        details: {
          type: 'object',
          description:
            'The inbound leg (`callA`, caller to virtual number) and the outbound leg (`callB`); `CallA` is read too.',
          properties: { callA: ref('SessionLeg'), callB: ref('SessionLeg') },
        },
      }),
      VirtualNumberUpdateWebhook: eightByEightWebhook('VIRTUAL_NUMBER_UPDATE', ['updateEventType', 'virtualNumbers'], {
        subAccountId: { type: 'string' },
        updateEventType: { type: 'string', description: '`SNAPSHOT` or `UPDATES`, in any case.' },
        totalNumbers: {
          type: ['number', 'string'],
          description:
            "How many numbers the subaccount has. A SNAPSHOT drains the pool's numbers it does not list only " +
            'when it lists this many: without it, or listing fewer, it cannot be known whole.',
        },
        virtualNumbers: {
          type: 'array',
          items: {
            type: 'object',
            required: ['msisdn', 'operationalStatus'],
            properties: {
              msisdn: ref('EightByEightPhoneNumber'),
              countryCode: { type: 'string' },
              operationalStatus: { type: 'string', minLength: 1, examples: ['Active'] },
              referenceId: { type: 'string' },
              updatedTimestamp: { type: 'string' },
              updateStatus: { type: 'string' },
            },
          },
        },
      }),
      CallRecordingStatusWebhook: eightByEightWebhook('CALL_RECORDING_STATUS', ['sessionId'], {
        sessionId: {
          type: 'string',
          minLength: 1,
          maxLength: 128,
          description: 'The recorded session (`sessionid` is read too): the booking it was routed for gets it.',
        },
        recordingId: { type: 'string', description: 'One record per recording; the session stands in without it.' },
        subAccountId: { type: 'string' },
        status: { type: 'string', examples: ['completed'] },
        externalFileUrl: { type: 'string', maxLength: 2048, description: 'Where 8x8 put the file.' },
        duration: ref('EightByEightCount'),
        startRecordingTime: { type: 'string' },
      }),
      AnyWebhook: {
        oneOf: [
          ref('CallActionWebhook'),
          ref('CallStatusWebhook'),
          ref('SessionSummaryWebhook'),
          ref('VirtualNumberUpdateWebhook'),
          ref('CallRecordingStatusWebhook'),
        ],
      },
      BookingErasure: {
        type: 'object',
        required: ['bookingId', 'erased'],
        additionalProperties: false,
        properties: {
          bookingId: { type: 'string' },
          erased: {
            type: 'object',
            required: ['callSessions', 'callEvents', 'workflowRuns'],
            additionalProperties: false,
            properties: {
              callSessions: { type: 'integer', minimum: 0 },
              callEvents: { type: 'integer', minimum: 0 },
              workflowRuns: {
                type: 'integer',
                minimum: 0,
                description: 'Runs of the booking workflow whose history Temporal was asked to delete.',
              },
              endedPairings: {
                type: 'integer',
                minimum: 0,
                description: 'Pairings kept for late callers (MASKLINE_ENDED_BOOKING_WINDOW) that were deleted.',
              },
            },
          },
        },
      },
    },
  },
};
