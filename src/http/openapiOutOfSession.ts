import { MAX_SAY_TEXT_LENGTH } from '../eightbyeight';

/**
 * The OpenAPI part of `ask` (src/calls/platformAsk.ts): the question Maskline posts to the platform about a call
 * no live booking routes, and the answers it takes. Merged into the `webhooks:` of src/http/openapi.ts.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const outOfSessionComponentSchemas = {
  OutOfSessionQuestion: {
    type: 'object',
    required: ['type', 'sessionId', 'virtualNumber', 'recentBooking', 'receivedAt'],
    additionalProperties: false,
    properties: {
      type: { const: 'call.out_of_session' },
      sessionId: {
        type: 'string',
        description: "8x8's session id of the call; the `webhook-id` is `ask_<sessionId>`.",
      },
      virtualNumber: ref('E164'),
      caller: {
        type: 'object',
        required: ['number'],
        additionalProperties: false,
        properties: { number: ref('E164') },
        description: 'Only where the deployment sets MASKLINE_EVENTS_INCLUDE_NUMBERS=true.',
      },
      recentBooking: {
        description:
          'The booking on this number the caller was a party of, ended within MASKLINE_ENDED_BOOKING_WINDOW; ' +
          'null for a caller no recent booking knows.',
        oneOf: [
          {
            type: 'object',
            required: ['bookingId', 'callerRole', 'otherRole', 'endedAt'],
            additionalProperties: false,
            properties: {
              bookingId: { type: 'string' },
              callerRole: { type: 'string' },
              otherRole: { type: 'string' },
              endedAt: ref('Timestamp'),
            },
          },
          { type: 'null' },
        ],
      },
      receivedAt: ref('Timestamp'),
    },
  },
  OutOfSessionAnswer: {
    oneOf: [
      {
        type: 'object',
        required: ['action', 'role'],
        properties: {
          action: { const: 'connect' },
          role: {
            type: 'string',
            minLength: 1,
            maxLength: 64,
            description: 'Put the caller through to this party of `recentBooking` (its `otherRole`).',
          },
        },
      },
      {
        type: 'object',
        required: ['action', 'number'],
        properties: {
          action: { const: 'connect' },
          number: { type: 'string', description: 'Put the caller through to this number, the VN as caller ID.' },
        },
      },
      {
        type: 'object',
        required: ['action', 'text'],
        properties: {
          action: { const: 'say' },
          text: {
            type: 'string',
            minLength: 1,
            maxLength: MAX_SAY_TEXT_LENGTH,
            description: 'Said to the caller (text to speech), then the call ends.',
          },
        },
      },
    ],
  },
};

export const outOfSessionWebhooks = {
  'call.out_of_session': {
    post: {
      operationId: 'askOutOfSession',
      tags: ['events'],
      summary: 'A call no live booking routes: Maskline asks the platform what to do (the `ask` policy).',
      description:
        'Posted to the booking’s `outOfSession.askUrl`, else MASKLINE_ASK_URL, when the route of the call is ' +
        '`ask`: MASKLINE_OUT_OF_SESSION_POLICY=ask for a caller no booking knows, or a late caller of a booking ' +
        'whose `outOfSession.afterEnd` (or MASKLINE_ENDED_BOOKING_ROUTE) is `ask`. Signed as booking events are ' +
        '(Standard Webhooks, MASKLINE_EVENTS_SECRETS). The caller is waiting: an answer later than ' +
        'MASKLINE_ASK_TIMEOUT_MS (1.5 s by default), not 2xx, not JSON, or none of the shapes below, is not ' +
        'retried; the caller gets MASKLINE_ASK_FALLBACK (`notice` or `forward` to MASKLINE_SUPPORT_NUMBER).',
      parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({
        name,
        in: 'header',
        required: true,
        schema: { type: 'string' },
      })),
      requestBody: { required: true, content: { 'application/json': { schema: ref('OutOfSessionQuestion') } } },
      responses: {
        '200': {
          description: 'What to do with the call.',
          content: { 'application/json': { schema: ref('OutOfSessionAnswer') } },
        },
        default: { description: 'Not an answer: the caller gets the fallback.' },
      },
    },
  },
};
