/**
 * The OpenAPI parts of the operators' views: the summary behind the dashboard and `maskline pool`, and the
 * dashboard's own files. Merged into src/http/openapi.ts.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const nullable = (schema: object) => ({ oneOf: [schema, { type: 'null' }] });
const count = { type: 'integer', minimum: 0 };
const timestamp = { type: 'string', format: 'date-time' };
const closed = (properties: Record<string, object>, description?: string) => ({
  type: 'object',
  ...(description ? { description } : {}),
  required: Object.keys(properties),
  additionalProperties: false,
  properties,
});

const DASHBOARD_HEADERS = {
  'Content-Security-Policy': {
    description: "Scripts, styles and fetch from this server only; no inline code, no frames: `default-src 'none'; …`.",
    schema: { type: 'string' },
  },
};

const dashboardFile = (operationId: string, summary: string, mediaType: string) => ({
  get: {
    operationId,
    tags: ['operations'],
    summary,
    description:
      'A static file: it holds no figure and no credential. The page asks for the API key, keeps it in the ' +
      "tab's sessionStorage and sends it as a bearer token to `GET /v1/operations/summary`, every 5 s.",
    security: [],
    responses: {
      '200': {
        description: 'The file.',
        headers: DASHBOARD_HEADERS,
        content: { [mediaType]: { schema: { type: 'string' } } },
      },
    },
  },
});

export const operationsPaths = {
  '/v1/operations/summary': {
    get: {
      operationId: 'getOperationsSummary',
      tags: ['operations'],
      summary: "The operators' summary: pool headroom, bookings, call actions, call events, number sync",
      description:
        'Counts only, never a phone number. Computed at most every 3 s whatever the number of readers. Figures ' +
        "from Temporal's visibility (creations, refusals, number sync) are null while Temporal does not answer; " +
        "call-action figures are null where the server's metrics do not hold them.",
      security: [{ apiKey: [] }],
      responses: {
        '200': { description: 'The summary.', content: json(ref('OperationsSummary')) },
        '401': { $ref: '#/components/responses/Unauthorized' },
        '500': { $ref: '#/components/responses/InternalError' },
        '503': { $ref: '#/components/responses/StoreUnavailable' },
      },
    },
  },
  '/dashboard': dashboardFile('getDashboard', "The operators' live dashboard (HTML)", 'text/html'),
  '/dashboard/dashboard.js': dashboardFile('getDashboardScript', "The dashboard's script", 'text/javascript'),
  '/dashboard/dashboard.css': dashboardFile('getDashboardStyles', "The dashboard's styles", 'text/css'),
};

export const operationsComponentSchemas = {
  CountryHeadroom: closed({
    country: {
      ...nullable({ type: 'string', pattern: '^[A-Z]{2}$' }),
      description: 'Null: numbers of no known country.',
    },
    free: { ...count, description: 'Allocatable numbers no live booking holds.' },
    held: { ...count, description: "Allocatable numbers live bookings hold (they still take other people's)." },
    unavailable: { ...count, description: 'Disabled or draining numbers: no new bookings.' },
    liveBookings: { ...count, description: "Active or completing bookings on this country's numbers." },
    partiesAtCapacity: {
      ...count,
      description:
        'People who hold every allocatable number of the country: their next booking here is refused. A number ' +
        'has no booking limit of its own; a person can hold each number once.',
    },
    busiestPartyRoom: { ...count, description: 'How many more bookings at once the busiest person can get here.' },
  }),
  OperationsSummary: closed({
    generatedAt: timestamp,
    pool: closed({ countries: { type: 'array', items: ref('CountryHeadroom') } }),
    bookings: closed({
      active: count,
      completing: count,
      createdPerMinute: nullable({
        type: 'array',
        description: 'Bookings that got a number, per minute, the last 15 minutes, the current one last.',
        items: closed({ minute: timestamp, count }),
      }),
      refusedLastHour: nullable(count),
    }),
    callActions: closed({
      p95Seconds: nullable({ type: 'number', minimum: 0 }),
      noticeRate: nullable({ type: 'number', minimum: 0, maximum: 1 }),
      outcomes: nullable({ type: 'object', additionalProperties: count }),
      windowSeconds: count,
      budgetSeconds: { type: 'number', description: '8x8 publishes none: the strictest published by peers (5 s).' },
      storeTimeoutSeconds: { type: 'number', description: 'MASKLINE_CALL_ACTION_TIMEOUT_MS, in seconds.' },
    }),
    callEvents: closed({ pending: count }),
    numberSync: nullable(
      closed({
        lastRunAt: nullable(timestamp),
        lastRunStatus: nullable({ type: 'string' }),
        lastSuccessAt: nullable(timestamp),
      }),
    ),
  }),
};
