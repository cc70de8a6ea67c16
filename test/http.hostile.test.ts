import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { callReceived, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { validateCallActionAnswer } from '../harness/eightbyeightSchemas';
import { API_KEY, WEBHOOK_SECRET, startStack, uniqueId, type Answer, type Stack } from '../harness/stack';

// Hostile input, generated: whatever arrives on any endpoint, the answer is a 4xx with a code
// (`{"error": {"code", "message"}}`), or for a well-formed 8x8 call action a valid callflow — never a 5xx, never a
// crash, and a replay never changes a booking. Each property runs a bounded number of inputs.

// MASKLINE_HOSTILE_RUNS raises it for a long hunt for counterexamples (they are seeded at random on every run).
const RUNS = Number(process.env.MASKLINE_HOSTILE_RUNS ?? 120);
const RIDER = '+6591237001';
const DRIVER = '+6598767001';
const STRANGER = '+6581117001';
const POOL = ['+6560008001', '+6560008002'];

const BODY_ROUTES = [
  '/v1/numbers',
  '/v1/bookings',
  '/v1/bookings/any-booking/complete',
  '/v1/bookings/any-booking/cancel',
  '/webhooks/8x8/call-action',
  '/webhooks/8x8/call-status',
  '/webhooks/8x8/session-summary',
  '/webhooks/8x8',
];
const CALL_ACTION_ROUTES = new Set(['/webhooks/8x8/call-action']);

/** Strings that look a little like phone numbers, or nothing like them. */
const notPhoneNumbers = fc.oneof(
  fc.string(),
  fc.stringMatching(/^\+?\d{0,20}$/),
  fc.stringMatching(/^\+?[\d\s().-]{0,30}$/),
  fc.constantFrom(
    'anonymous',
    'Restricted',
    'unknown',
    '+',
    '00',
    '+0000000000',
    '+6500000000',
    'null',
    '１２３４５６７８',
  ),
);
/** Whether a request body names a number valid in its country's numbering plan, asked of libphonenumber directly. */
function isRealPhoneNumber(json: unknown): boolean {
  if (typeof json !== 'object' || json === null || !('number' in json) || typeof json.number !== 'string') return false;
  const digits = json.number.trim();
  return isValidPhoneNumber(digits.startsWith('+') ? digits : `+${digits}`);
}
/**
 * Whether a value holds a key the body parser refuses as prototype poisoning (`__proto__`, or `constructor` with a
 * `prototype` inside): such a body is a 400 invalid_json wherever it goes, which fast-check's objects can be.
 */
function hasPoisonedKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  const constructor = Object.prototype.hasOwnProperty.call(value, 'constructor')
    ? (value as Record<string, unknown>).constructor
    : undefined;
  if (
    typeof constructor === 'object' &&
    constructor !== null &&
    Object.prototype.hasOwnProperty.call(constructor, 'prototype')
  )
    return true;
  return Object.values(value).some(hasPoisonedKey);
}

/** Any JSON value but a string: the wrong type for a text field. */
const wrongType = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
);

let inputsTried = 0;

describe('hostile input on every endpoint', () => {
  let stack: Stack;
  let virtualNumber: string;
  let bookingId: string;

  before(async () => {
    stack = await startStack();
    for (const number of POOL) assert.equal((await send('POST', '/v1/numbers', { json: { number } })).status, 201);
    bookingId = uniqueId('hostile');
    const created = await send('POST', '/v1/bookings', { json: bookingRequest() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    virtualNumber = created.body.virtualNumber;
  });
  after(async () => {
    console.log(
      `hostile input: ${inputsTried} inputs tried over ${BODY_ROUTES.length} body routes and the path parameters; none was answered with a 5xx`,
    );
    await stack.stop();
  });

  function bookingRequest() {
    return {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: DRIVER },
      ],
    };
  }

  async function send(
    method: string,
    route: string,
    options: { json?: unknown; raw?: string; contentType?: string } = {},
  ): Promise<Answer> {
    inputsTried += 1;
    const authorization = route.startsWith('/webhooks/') ? WEBHOOK_SECRET : `Bearer ${API_KEY}`;
    const body = options.raw ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
    const response = await fetch(`${stack.baseUrl}${route}`, {
      method,
      headers: { 'content-type': options.contentType ?? 'application/json', authorization },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      assert.fail(`${method} ${route} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    return { status: response.status, body: parsed };
  }

  /** A 4xx with `{"error": {"code", "message"}}`; on the call-action route, with the notice callflow as well. */
  function assertRefusal(answer: Answer, route: string, what: string) {
    assert.ok(
      answer.status >= 400 && answer.status < 500,
      `${what}: answered ${answer.status} ${JSON.stringify(answer.body)}`,
    );
    assert.equal(typeof answer.body?.error?.code, 'string', `${what}: no error code in ${JSON.stringify(answer.body)}`);
    assert.ok(answer.body.error.code.length > 0);
    assert.equal(typeof answer.body.error.message, 'string');
    if (CALL_ACTION_ROUTES.has(route)) assertCallflow(answer, what);
  }

  function assertCallflow(answer: Answer, what: string) {
    const check = validateCallActionAnswer(answer.body);
    assert.ok(check.valid, `${what}: not a valid callflow: ${check.errors.join('; ')}`);
  }

  /** Never a 5xx; a 4xx has the error shape; a 2xx is fine (the input happened to be valid). */
  function assertNoServerError(answer: Answer, route: string, what: string) {
    assert.ok(
      answer.status > 0 && answer.status < 500,
      `${what}: answered ${answer.status} ${JSON.stringify(answer.body)}`,
    );
    if (answer.status >= 400) assertRefusal(answer, route, what);
  }

  it('any JSON value as the body of any route is answered without a 5xx, and refused with a code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BODY_ROUTES), fc.jsonValue({ maxDepth: 4 }), async (route, json) => {
        const answer = await send('POST', route, { json });
        assertNoServerError(answer, route, `POST ${route} ${JSON.stringify(json).slice(0, 200)}`);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('a body that is not JSON is 400 invalid_json, whatever the Content-Type says', async () => {
    const notJson = fc.string({ minLength: 1 }).filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        notJson,
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (route, raw, contentType) => {
          const answer = await send('POST', route, { raw, contentType });
          assertRefusal(answer, route, `POST ${route} ${JSON.stringify(raw)}`);
          assert.equal(answer.body.error.code, 'invalid_json');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a body over 64 KB is 413 payload_too_large on every route that reads one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        fc.integer({ min: 64 * 1024 + 1, max: 256 * 1024 }),
        async (route, size) => {
          const raw = JSON.stringify({ padding: 'x'.repeat(size) });
          const answer = await send('POST', route, { raw });
          assertRefusal(answer, route, `POST ${route} with ${raw.length} bytes`);
          assert.equal(answer.status, 413);
          assert.equal(answer.body.error.code, 'payload_too_large');
        },
      ),
      { numRuns: 24 },
    );
  });

  it('booking requests with wrong types, missing fields or numbers that are no phone numbers are 400 naming the field', async () => {
    const fields = [
      'bookingId',
      'parties',
      'parties.0',
      'parties.1.number',
      'parties.0.role',
      'expiresInSeconds',
      'gracePeriodSeconds',
      'geoMatch',
    ];
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('missing' as const), field: fc.constantFrom(...fields) }),
      fc.record({ kind: fc.constant('wrong type' as const), field: fc.constantFrom(...fields), value: wrongType }),
      fc.record({
        kind: fc.constant('not a phone number' as const),
        field: fc.constantFrom('parties.0.number', 'parties.1.number'),
        value: notPhoneNumbers,
      }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (change) => {
        const request: Record<string, unknown> = {
          ...bookingRequest(),
          bookingId: uniqueId('hostile'),
          expiresInSeconds: 600,
          gracePeriodSeconds: 0,
          geoMatch: 'prefer',
        };
        const mutated = structuredClone(request);
        setPath(mutated, change.field, change.kind === 'missing' ? undefined : change.value);
        const answer = await send('POST', '/v1/bookings', { json: mutated });
        const what = `${change.kind} ${change.field}: ${JSON.stringify(mutated)}`;
        if (hasPoisonedKey(mutated)) {
          assert.equal(answer.status, 400, what);
          assert.equal(answer.body.error.code, 'invalid_json', what);
          return;
        }
        if (answer.status === 201) {
          // Still a valid request (an optional field left out, or a string that is a phone number after all).
          await send('POST', `/v1/bookings/${String(mutated.bookingId)}/cancel`);
          return;
        }
        assertRefusal(answer, '/v1/bookings', what);
        if (answer.status === 409) return; // e.g. the mutated party is the rider of the live booking on both numbers
        assert.equal(answer.status, 400, what);
        assert.equal(answer.body.error.code, 'invalid_request', what);
        assert.match(
          answer.body.error.message,
          /^(bookingId|parties|expiresInSeconds|gracePeriodSeconds|geoMatch|body)\b/,
          what,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('the number pool refuses bodies and path segments that are no phone number with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ number: notPhoneNumbers }),
          fc.record({ number: wrongType }),
          fc.record({ number: fc.constant(POOL[0]), countryCode: fc.oneof(fc.string(), wrongType) }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        notPhoneNumbers,
        async (json, segment) => {
          const added = await send('POST', '/v1/numbers', { json });
          assertNoServerError(added, '/v1/numbers', `POST /v1/numbers ${JSON.stringify(json)}`);
          if (added.status === 201) {
            // A run of digits can be a real number after all ("6064000000" is +60 64000000, Malaysia): then it
            // must be one by the numbering plan itself, not only by our parser. Drain it so no booking gets it.
            assert.ok(isRealPhoneNumber(json), `added ${JSON.stringify(json)}`);
            assert.equal((await send('DELETE', `/v1/numbers/${encodeURIComponent(added.body.number)}`)).status, 202);
          }
          const route = `/v1/numbers/${encodeURIComponent(segment)}`;
          const drained = await send('DELETE', route);
          // Only a real number this property itself added may be drained (again).
          if (drained.status === 202 && isRealPhoneNumber({ number: segment })) return;
          assertRefusal(drained, route, `DELETE ${route}`);
        },
      ),
      // The counterexample CI once found: digits without `+` that are a Malaysian number.
      { numRuns: RUNS, examples: [[{ number: '6064000000' }, 'n']] },
    );
  });

  it('unknown or hostile booking ids in the path are 404 or 400, never a 5xx', async () => {
    const bookingIds = fc.oneof(
      fc.string({ minLength: 1 }),
      fc.string({ minLength: 300, maxLength: 2_000 }),
      fc.constantFrom('..', '%', '%00', 'a/b', ' ', '\u0000', 'booking-'.repeat(200)),
    );
    await fc.assert(
      fc.asyncProperty(bookingIds, fc.constantFrom('', '/complete', '/cancel'), async (id, action) => {
        const route = `/v1/bookings/${encodeURIComponent(id)}${action}`;
        const answer = await send(action ? 'POST' : 'GET', route);
        assertRefusal(answer, route, `${route}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('a well-formed call action gets a valid callflow, whatever the caller, the status and eventData (object or string)', async () => {
    const eventData = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.record({ dtmf: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }),
      fc.record({ dtmf: fc.string() }).map((data) => JSON.stringify(data)),
      fc.string(),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const caller = fc.oneof(
      fc.constantFrom(RIDER, DRIVER, STRANGER),
      notPhoneNumbers.filter((text) => text.trim() !== ''),
    );
    const status = fc.oneof(fc.constantFrom('CALL_RECEIVED', 'ACTION_COMPLETED'), fc.string({ minLength: 1 }));
    await fc.assert(
      fc.asyncProperty(caller, status, eventData, fc.boolean(), async (from, callStatus, data, singleUrl) => {
        const body = callReceived(from, virtualNumber, uniqueId('session'));
        const payload: Record<string, unknown> = { ...body.payload, source: from, callStatus };
        if (data !== undefined) payload.eventData = data;
        const route = singleUrl ? '/webhooks/8x8' : '/webhooks/8x8/call-action';
        const answer = await send('POST', route, { json: { ...body, payload } });
        const what = `${route} ${JSON.stringify(payload)}`;
        if (hasPoisonedKey(payload)) {
          // Refused before routing, and still a callflow 8x8 can play: the notice.
          assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.error.code, 'invalid_json');
          if (!singleUrl) assertCallflow(answer, what);
          return;
        }
        assert.equal(answer.status, 200, `${what}: ${JSON.stringify(answer.body)}`);
        assertCallflow(answer, what);
        const actions = answer.body.callflow.map((step: { action: string }) => step.action);
        const knownParty = callStatus === 'CALL_RECEIVED' && (from === RIDER || from === DRIVER);
        if (knownParty) assert.deepEqual(actions, ['makeCall'], what);
        else assert.notEqual(actions[0], 'makeCall', `${what}: a stranger was put through`);
      }),
      // The counterexample CI once found: eventData holding a `__proto__` key.
      { numRuns: RUNS, examples: [[RIDER, 'CALL_RECEIVED', JSON.parse('[{"__proto__": 0}]'), false]] },
    );
  });

  it('an unknown eventType on the single webhook URL is 400 unknown_event_type', async () => {
    const known = new Set([
      'CALL_ACTION',
      'CALL_STATUS',
      'SESSION_SUMMARY',
      'VIRTUAL_NUMBER_UPDATE',
      'CALL_RECORDING_STATUS',
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.string().filter((type) => !known.has(type)),
        fc.jsonValue({ maxDepth: 2 }),
        async (eventType, payload) => {
          const answer = await send('POST', '/webhooks/8x8', { json: { namespace: 'VOICE', eventType, payload } });
          assertRefusal(answer, '/webhooks/8x8', `eventType ${JSON.stringify(eventType)}`);
          assert.equal(answer.body.error.code, hasPoisonedKey(payload) ? 'invalid_json' : 'unknown_event_type');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('call status and session summary webhooks with missing or mistyped fields are answered without a 5xx', async () => {
    const status = callStatus({ sessionId: 'x', caller: RIDER, virtualNumber: POOL[1]!, callStatus: 'CALL_CONNECTED' });
    const summary = sessionSummary({
      sessionId: 'x',
      caller: RIDER,
      virtualNumber: POOL[1]!,
      callee: DRIVER,
      sessionStatus: 'COMPLETED',
      durationSeconds: 3,
    });
    const statusFields = Object.keys(status.payload).map((key) => `payload.${key}`);
    const summaryFields = [
      'sessionId',
      'sessionStatus',
      'startTime',
      'callCount',
      'details',
      'details.callA',
      'details.callB.callDuration',
      'details.callA.source',
    ].map((key) => `payload.${key}`);
    const webhook = fc.oneof(
      fc.record({
        route: fc.constantFrom('/webhooks/8x8/call-status', '/webhooks/8x8'),
        body: fc.constant(status),
        field: fc.constantFrom('eventType', 'payload', ...statusFields),
      }),
      fc.record({
        route: fc.constantFrom('/webhooks/8x8/session-summary', '/webhooks/8x8'),
        body: fc.constant(summary),
        field: fc.constantFrom('eventType', 'payload', ...summaryFields),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        webhook,
        fc.option(fc.oneof(wrongType, notPhoneNumbers), { nil: undefined }),
        async ({ route, body, field }, value) => {
          const mutated = structuredClone(body) as Record<string, unknown>;
          setPath(mutated, 'payload.sessionId', uniqueId('session'));
          setPath(mutated, 'payload.eventId', uniqueId('event'));
          setPath(mutated, field, value);
          const answer = await send('POST', route, { json: mutated });
          assertNoServerError(answer, route, `${route} ${field}=${JSON.stringify(value)}`);
          if (answer.status < 400) assert.equal(answer.body.received, true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('replayed and duplicated requests and webhooks, in any order and at once, never change a booking', async () => {
    const sessionId = uniqueId('session');
    const deliveries: [string, unknown][] = [
      ['/v1/bookings', bookingRequest()],
      ['/webhooks/8x8/call-action', callReceived(DRIVER, virtualNumber, sessionId)],
      [
        '/webhooks/8x8/call-status',
        callStatus({
          sessionId,
          caller: DRIVER,
          virtualNumber,
          callStatus: 'CALL_CONNECTED',
          eventId: uniqueId('event'),
        }),
      ],
      [
        '/webhooks/8x8/session-summary',
        sessionSummary({
          sessionId,
          caller: DRIVER,
          virtualNumber,
          callee: RIDER,
          sessionStatus: 'COMPLETED',
          durationSeconds: 30,
        }),
      ],
    ];
    for (const [route, json] of deliveries) assert.ok((await send('POST', route, { json })).status < 300);
    const settled = await send('GET', `/v1/bookings/${bookingId}`);
    assert.ok(settled.body.calls.some((call: { sessionId: string }) => call.sessionId === sessionId));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...deliveries.keys()), { minLength: 1, maxLength: 8 }),
        async (order) => {
          const answers = await Promise.all(
            order.map((index) => send('POST', deliveries[index]![0], { json: deliveries[index]![1] })),
          );
          for (const [i, answer] of answers.entries()) {
            const route = deliveries[order[i]!]![0];
            assert.ok(answer.status === 200, `replay of ${route}: ${answer.status} ${JSON.stringify(answer.body)}`);
            if (route === '/v1/bookings') assert.equal(answer.body.virtualNumber, virtualNumber);
            if (route.includes('call-status') || route.includes('summary'))
              assert.equal(answer.body.outcome, 'duplicate');
          }
          assert.deepEqual((await send('GET', `/v1/bookings/${bookingId}`)).body, settled.body);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a new call event delivered several times at once is recorded on the booking once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.boolean(), async (copies, summaryFirst) => {
        const before = (await send('GET', `/v1/bookings/${bookingId}`)).body.calls.length;
        const sessionId = uniqueId('session');
        const status = callStatus({ sessionId, caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' });
        const summary = sessionSummary({
          sessionId,
          caller: RIDER,
          virtualNumber,
          callee: DRIVER,
          sessionStatus: 'NO ANSWER',
          durationSeconds: 0,
        });
        const bodies = { 'call-status': status, 'session-summary': summary };
        const order = summaryFirst
          ? (['session-summary', 'call-status'] as const)
          : (['call-status', 'session-summary'] as const);
        for (const route of order) {
          const copiesSent = Array.from({ length: copies }, () =>
            send('POST', `/webhooks/8x8/${route}`, { json: bodies[route] }),
          );
          for (const answer of await Promise.all(copiesSent))
            assert.equal(answer.status, 200, JSON.stringify(answer.body));
        }
        const calls = (await send('GET', `/v1/bookings/${bookingId}`)).body.calls as {
          sessionId: string;
          status: string;
        }[];
        assert.equal(calls.length, before + 1);
        // The summary's outcome is final, whichever came first.
        assert.equal(calls.find((call) => call.sessionId === sessionId)?.status, 'NO_ANSWER');
      }),
      { numRuns: 20 },
    );
  });
});

/** Sets (or, with undefined, deletes) a dotted path such as `parties.1.number`, creating nothing on the way. */
function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node: unknown = target;
  for (const key of keys.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<string, unknown>)[key];
  }
  if (node === null || typeof node !== 'object') return;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}
