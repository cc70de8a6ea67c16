import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import type { Config } from '../src/config';
import { createLogger } from '../src/logging/logger';
import { createHttpApplication } from '../src/server/httpApplication';
import { createDataConverter } from '../src/temporal/payloadEncryption';
import type { Database } from '../src/store/database';
import {
  callReceived,
  callRecordingStatus,
  callStatus,
  digitsEntered,
  sessionSummary,
} from '../src/eightbyeight/simulatedWebhooks';
import {
  documentedAnswers,
  matchPath,
  validateDocument,
  validateRequestBody,
  validateResponse,
  type OpenApiDocument,
} from '../harness/openapi';
import {
  API_KEY,
  CODEC_TOKEN,
  CapturedLogs,
  METRICS_TOKEN,
  WEBHOOK_SECRET,
  eventually,
  startStack,
  uniqueId,
  type Stack,
} from '../harness/stack';

// Every answer the running server gives in this file is checked against the document the server itself serves
// at /openapi.json, and every documented answer must be produced here by a real request — or be listed below
// with the reason it cannot be.

const RIDER = '+6591234567';
const DRIVER = '+6598765432';
const SECOND_DRIVER = '+6598765433';
const THIRD_DRIVER = '+6598765434';
const STRANGER = '+6581112222';

/** Documented answers no request here produces, and why. */
const NOT_PRODUCED_HERE: Record<string, string> = {
  'POST /v1/bookings 404': 'a repeat of an ended booking whose history Temporal can no longer read',
  'POST /v1/bookings 500': 'only a bug (a Temporal outage is a 503)',
  'GET /v1/bookings/{bookingId} 500': 'only a bug',
  'POST /v1/bookings/{bookingId}/complete 500': 'only a bug',
  'POST /v1/bookings/{bookingId}/cancel 500': 'only a bug',
  'POST /webhooks/8x8/call-action 500': 'only a bug (a store outage is answered with the notice)',
  'GET /v1/numbers 500': 'only a bug (a store outage is a 503)',
  'POST /v1/numbers 500': 'only a bug (a store outage is a 503)',
  'DELETE /v1/numbers/{number} 500': 'only a bug (a store outage is a 503)',
  'POST /v1/numbers/{number}/restore 500': 'only a bug (a store outage is a 503)',
  'POST /webhooks/8x8/call-status 500': 'only a bug (a store outage is a 503)',
  'POST /webhooks/8x8/session-summary 500': 'only a bug (a store outage is a 503)',
  'POST /webhooks/8x8/call-recording-status 500': 'only a bug (a store outage is a 503)',
  'POST /webhooks/8x8 500': 'only a bug (a store outage is a 503)',
  'DELETE /v1/bookings/{bookingId}/data 500': 'only a bug (outages are a 503)',
  'POST /codec/decode 500': 'only a bug',
  'POST /codec/encode 500': 'only a bug',
  'GET /v1/bookings 500': 'only a bug (a Temporal outage is a 503)',
  'GET /v1/bookings/{bookingId}/events 500': 'only a bug (a Temporal outage is a 503)',
  'GET /v1/operations/summary 500': 'only a bug (a store outage is a 503; a Temporal outage nulls its figures)',
  'POST /v1/bookings/{bookingId}/events/{eventId}/redeliver 500': 'only a bug (a Temporal outage is a 503)',
};

const BODY_ROUTES = [
  '/v1/numbers',
  '/v1/numbers/%2B6560000003/restore',
  '/v1/bookings',
  '/v1/bookings/any-booking/complete',
  '/v1/bookings/any-booking/cancel',
  '/webhooks/8x8/call-action',
  '/webhooks/8x8/call-status',
  '/webhooks/8x8/session-summary',
  '/webhooks/8x8/call-recording-status',
  '/webhooks/8x8',
];

interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface Send {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is. */
  raw?: string;
  /** Default: the API key on `/v1/`, the webhook secret on `/webhooks/`; null sends none. */
  authorization?: string | null;
  headers?: Record<string, string>;
  /** Default: the stack's server. */
  baseUrl?: string;
}

describe('every answer of the HTTP API is the one its OpenAPI document describes', () => {
  let stack: Stack;
  let document: OpenApiDocument;
  const produced = new Set<string>();

  /** A request to the running server; its answer must match the served document, or the test fails. */
  async function send(method: string, path: string, options: Send = {}): Promise<Answer> {
    const authorization =
      options.authorization !== undefined
        ? options.authorization
        : path.startsWith('/v1/')
          ? `Bearer ${API_KEY}`
          : path.startsWith('/webhooks/')
            ? WEBHOOK_SECRET
            : null;
    const body = options.raw ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
    const response = await fetch(`${options.baseUrl ?? stack.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(authorization === null ? {} : { authorization }),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const plain = (response.headers.get('content-type') ?? '').startsWith('text/plain');
    const answer: Answer = {
      status: response.status,
      headers: response.headers,
      body: text ? (plain ? text : JSON.parse(text)) : undefined,
    };

    assert.deepEqual(
      validateResponse(document, method, path, answer.status, answer.body),
      [],
      'the answer is documented',
    );
    if (answer.status < 300 && options.json !== undefined) {
      assert.deepEqual(
        validateRequestBody(document, method, path, options.json),
        [],
        'an accepted request is documented',
      );
    }
    produced.add(`${method} ${matchPath(document, path)} ${answer.status}`);
    return answer;
  }

  async function bookingRequest(bookingId: string, driver: string) {
    return send('POST', '/v1/bookings', {
      json: {
        bookingId,
        parties: [
          { role: 'rider', number: RIDER },
          { role: 'driver', number: driver },
        ],
      },
    });
  }

  before(async () => {
    // A signing secret, so that requests naming a callbackUrl or an askUrl are taken (and their answers checked).
    stack = await startStack({ env: { MASKLINE_EVENTS_SECRETS: `whsec_${Buffer.alloc(24, 3).toString('base64')}` } });
    const served = await fetch(`${stack.baseUrl}/openapi.json`);
    document = (await served.json()) as OpenApiDocument;
  });
  after(() => stack.stop());

  describe('the document', () => {
    it('is served at /openapi.json and is a valid OpenAPI 3.1 document', async () => {
      await send('GET', '/openapi.json');
      assert.deepEqual(await validateDocument(document), []);
    });

    it('is checked for real: a drifted answer or a broken document is reported', async () => {
      const booking = {
        bookingId: 'ride-1',
        status: 'active',
        parties: [
          { role: 'rider', number: RIDER },
          { role: 'driver', number: DRIVER },
        ],
        expiresAt: '2030-01-01T00:00:00.000Z',
        createdAt: '2030-01-01T00:00:00.000Z',
        gracePeriodSeconds: 600,
        graceEndsAt: null,
        endedAt: null,
        calls: [],
      };
      const missing = validateResponse(document, 'GET', '/v1/bookings/ride-1', 200, booking);
      assert.ok(
        missing.some((problem) => problem.includes("must have required property 'virtualNumber'")),
        missing.join('\n'),
      );

      const renamed = validateResponse(document, 'GET', '/v1/bookings/ride-1', 200, {
        ...booking,
        virtualNumber: null,
        state: 'x',
      });
      assert.ok(
        renamed.some((problem) => problem.includes('must NOT have additional properties ("state")')),
        renamed.join('\n'),
      );

      const unknownStatus = validateResponse(document, 'GET', '/v1/bookings/ride-1', 200, {
        ...booking,
        virtualNumber: null,
        status: 'paused',
      });
      assert.ok(
        unknownStatus.some((problem) => problem.includes('body/status')),
        unknownStatus.join('\n'),
      );

      assert.match(
        validateResponse(document, 'GET', '/v1/bookings/ride-1', 418, {}).join(),
        /status 418 is not documented/,
      );
      assert.match(validateResponse(document, 'GET', '/v2/bookings', 200, {}).join(), /path is not documented/);
      assert.match(
        validateResponse(document, 'POST', '/v1/bookings/ride-1/cancel', 409, {
          error: { code: 'booking_conflict', message: '' },
        }).join(),
        /allowed values/,
      );

      const broken = structuredClone(document) as OpenApiDocument & { components: { schemas: Record<string, object> } };
      broken.components.schemas.Party = { type: 'object', nullable: true };
      delete (broken.paths['/healthz']?.get as { responses: { '200': { description?: string } } }).responses['200']
        .description;
      const problems = await validateDocument(broken);
      assert.ok(
        problems.some((problem) => problem.startsWith('OpenAPI 3.1:')),
        problems.join('\n'),
      );
      assert.ok(
        problems.some((problem) => problem.includes('unknown keyword: "nullable"')),
        problems.join('\n'),
      );
    });
  });

  describe('metrics', () => {
    it('/metrics answers Prometheus text with the metrics token, 401 without it', async () => {
      const metrics = await send('GET', '/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /^# HELP maskline_call_actions_total /m);
      const refused = await send('GET', '/metrics', { authorization: null });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error.code, 'unauthorized');
    });

    it('/metrics is 404 outside development mode when no metrics token is set', async () => {
      const closed = await serveVariant(stack, { config: { metricsToken: null, developmentMode: false } });
      try {
        const answer = await send('GET', '/metrics', { baseUrl: closed.baseUrl, authorization: 'Bearer anything' });
        assert.equal(answer.status, 404);
        assert.equal(answer.body.error.code, 'not_found');
      } finally {
        await closed.stop();
      }
    });
  });

  describe('health', () => {
    it('/healthz says the process is alive', async () => {
      const health = await send('GET', '/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: 'ok' });
    });

    it('/readyz says ready when the store and Temporal answer', async () => {
      const ready = await send('GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready', checks: { store: 'ok', temporal: 'ok' } });
    });
  });

  describe("the operators' views", () => {
    it('/v1/operations/summary answers the pool headroom and the vital figures', async () => {
      const summary = await send('GET', '/v1/operations/summary');
      assert.equal(summary.status, 200);
      assert.equal(summary.body.callActions.budgetSeconds, 5);
      assert.ok(Array.isArray(summary.body.pool.countries));
    });

    it('/dashboard and its script and styles are served as documented, with a Content-Security-Policy', async () => {
      for (const path of ['/dashboard', '/dashboard/dashboard.js', '/dashboard/dashboard.css']) {
        const response = await fetch(`${stack.baseUrl}${path}`);
        assert.equal(response.status, 200, path);
        const answer = (document.paths[path]?.get as { responses: Record<string, { content: object }> }).responses;
        const [mediaType] = Object.keys(answer['200']?.content ?? {});
        assert.equal(response.headers.get('content-type')?.split(';')[0], mediaType, path);
        assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/, path);
        assert.ok((await response.text()).length > 0, path);
        produced.add(`GET ${path} 200`);
      }
    });
  });

  describe('the number pool', () => {
    it('adds a number and answers it in E.164, active, with its country', async () => {
      const added = await send('POST', '/v1/numbers', { json: { number: '+65 6000 0001', referenceId: 'vn-1' } });
      assert.equal(added.status, 201);
      assert.equal(added.body.number, '+6560000001');
      assert.equal(added.body.countryCode, 'SG');
      assert.equal(added.body.status, 'active');
      assert.equal((await send('POST', '/v1/numbers', { json: { number: '6560000002' } })).status, 201);
      const third = await send('POST', '/v1/numbers', { json: { number: '+6560000003', countryCode: 'sg' } });
      assert.equal(third.body.countryCode, 'SG');
    });

    it('refuses a number that is already in the pool with 409 number_exists', async () => {
      const again = await send('POST', '/v1/numbers', { json: { number: '+6560000001' } });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'number_exists');
    });

    it('refuses an invalid number with 400 naming the field', async () => {
      const invalid = await send('POST', '/v1/numbers', { json: { number: '12' } });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.error.code, 'invalid_request');
      assert.match(invalid.body.error.message, /^number: /);
    });

    it('lists the pool in number order', async () => {
      const list = await send('GET', '/v1/numbers');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.numbers.map((n: { number: string }) => n.number),
        ['+6560000001', '+6560000002', '+6560000003'],
      );
    });

    it('drains a number with 202: it stays in the pool but gets no new bookings', async () => {
      const drained = await send('DELETE', '/v1/numbers/%2B6560000003');
      assert.equal(drained.status, 202);
      assert.equal(drained.body.status, 'draining');
    });

    it('answers 404 number_not_found for a number not in the pool, 400 for a path that is no number', async () => {
      const unknown = await send('DELETE', '/v1/numbers/%2B6560000009');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'number_not_found');
      const invalid = await send('DELETE', '/v1/numbers/not-a-number');
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.error.code, 'invalid_request');
    });

    it('restores a drained number with 200: it takes new bookings again; 404 and 400 as for a drain', async () => {
      const restored = await send('POST', '/v1/numbers/%2B6560000003/restore');
      assert.equal(restored.status, 200);
      assert.equal(restored.body.status, 'active');
      const again = await send('POST', '/v1/numbers/6560000003/restore');
      assert.equal(again.status, 200);
      assert.equal(again.body.status, 'active');
      const unknown = await send('POST', '/v1/numbers/%2B6560000009/restore');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'number_not_found');
      const invalid = await send('POST', '/v1/numbers/not-a-number/restore');
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.error.code, 'invalid_request');
      const drained = await send('DELETE', '/v1/numbers/%2B6560000003');
      assert.equal(drained.body.status, 'draining');
    });
  });

  describe('bookings', () => {
    const first = uniqueId('ride');
    const second = uniqueId('ride');
    const refused = uniqueId('ride');
    let virtualNumber: string;
    let secondNumber: string;

    it('creates a booking with 201 and its virtual number', async () => {
      const created = await bookingRequest(first, DRIVER);
      assert.equal(created.status, 201);
      assert.equal(created.body.status, 'active');
      assert.match(created.body.virtualNumber, /^\+656000000[12]$/);
      virtualNumber = created.body.virtualNumber;
    });

    it('creates a booking that chooses its late callers’ route (outOfSession) with 201, and refuses a bad one with 400', async () => {
      const chosen = await send('POST', '/v1/bookings', {
        json: {
          bookingId: uniqueId('ride'),
          parties: [
            { role: 'rider', number: '+6591230042' },
            { role: 'driver', number: '+6598760042' },
          ],
          outOfSession: { afterEnd: 'ask', askUrl: 'https://platform.example.com/maskline-ask' },
        },
      });
      assert.equal(chosen.status, 201, JSON.stringify(chosen.body));
      const bad = await send('POST', '/v1/bookings', {
        json: {
          bookingId: uniqueId('ride'),
          parties: [
            { role: 'rider', number: '+6591230043' },
            { role: 'driver', number: '+6598760043' },
          ],
          outOfSession: { afterEnd: 'somewhere' },
        },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /^outOfSession\.afterEnd: /);
      assert.equal((await send('POST', `/v1/bookings/${chosen.body.bookingId}/cancel`)).status, 202);
    });

    it('creates a booking of three parties with who may reach whom (reach) with 201, reads it back with 200, and routes a menu choice', async () => {
      const bookingId = uniqueId('order');
      const [customer, courier, restaurant] = ['+6591230044', '+6598760044', '+6561230044'];
      const reach = { customer: ['courier'], restaurant: ['courier'], courier: ['customer', 'restaurant'] };
      const created = await send('POST', '/v1/bookings', {
        json: {
          bookingId,
          parties: [
            { role: 'customer', number: customer },
            { role: 'courier', number: courier },
            { role: 'restaurant', number: restaurant },
          ],
          reach,
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.reach, reach);
      const read = await send('GET', `/v1/bookings/${bookingId}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.parties.length, 3);
      const sessionId = uniqueId('session');
      const menu = await send('POST', '/webhooks/8x8/call-action', {
        json: callReceived(courier, created.body.virtualNumber, sessionId),
      });
      assert.equal(menu.body.callflow[0].action, 'sayAndCapture');
      const chosen = await send('POST', '/webhooks/8x8/call-action', {
        json: digitsEntered(courier, created.body.virtualNumber, {
          sessionId: sessionId,
          clientActionId: menu.body.clientActionId,
          digits: '2',
        }),
      });
      assert.equal(chosen.body.callflow[0].params.destination, restaurant);
      const bad = await send('POST', '/v1/bookings', {
        json: { bookingId: uniqueId('order'), parties: created.body.parties, reach: { courier: ['chef'] } },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /^reach\.courier\.0: /);
      assert.equal((await send('POST', `/v1/bookings/${bookingId}/cancel`)).status, 202);
    });

    it('answers a repeat of the request with 200 and the same booking', async () => {
      const again = await bookingRequest(first, DRIVER);
      assert.equal(again.status, 200);
      assert.equal(again.body.virtualNumber, virtualNumber);
    });

    it('refuses the same bookingId with other parties with 409 booking_conflict', async () => {
      const conflict = await bookingRequest(first, STRANGER);
      assert.equal(conflict.status, 409);
      assert.equal(conflict.body.error.code, 'booking_conflict');
    });

    it('refuses an invalid request with 400 naming the field', async () => {
      const invalid = await send('POST', '/v1/bookings', {
        json: { bookingId: uniqueId('ride'), parties: [{ role: 'rider', number: RIDER }] },
      });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.error.code, 'invalid_request');
      assert.match(invalid.body.error.message, /^parties: /);
    });

    it('refuses a booking with 409 no_number_available when its rider already holds every number', async () => {
      const other = await bookingRequest(second, SECOND_DRIVER);
      assert.equal(other.status, 201);
      secondNumber = other.body.virtualNumber;
      const refusal = await bookingRequest(refused, THIRD_DRIVER);
      assert.equal(refusal.status, 409);
      assert.equal(refusal.body.error.code, 'no_number_available');
    });

    it('reads a booking with 200, a refused one as refused without a number, an unknown one as 404', async () => {
      const read = await send('GET', `/v1/bookings/${first}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.virtualNumber, virtualNumber);
      const refusedBooking = await send('GET', `/v1/bookings/${refused}`);
      assert.equal(refusedBooking.status, 200);
      assert.equal(refusedBooking.body.status, 'refused');
      assert.equal(refusedBooking.body.virtualNumber, null);
      const unknown = await send('GET', `/v1/bookings/${uniqueId('ride')}`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'booking_not_found');
    });

    it('lists bookings and reads a booking’s events with 200; redelivers one with 202; 400 and 404 as documented', async () => {
      const listed = await eventually(
        () => send('GET', `/v1/bookings?status=active&limit=10`),
        (answer) => answer.body.bookings.some((booking: { bookingId: string }) => booking.bookingId === first),
      );
      assert.equal(listed.status, 200);
      const invalid = await send('GET', '/v1/bookings?status=lost');
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.error.code, 'invalid_request');

      const events = await send('GET', `/v1/bookings/${first}/events`);
      assert.equal(events.status, 200);
      assert.equal(events.body.events[0].event.type, 'booking.active');
      assert.equal((await send('GET', `/v1/bookings/${uniqueId('ride')}/events`)).status, 404);
      const eventId = events.body.events[0].event.id;
      const redelivery = await send('POST', `/v1/bookings/${first}/events/${eventId}/redeliver`);
      assert.equal(redelivery.status, 202);
      const unknown = await send('POST', `/v1/bookings/${first}/events/evt_unknown/redeliver`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'event_not_found');
      const badNumbers = await send('GET', '/v1/numbers?limit=0');
      assert.equal(badNumbers.status, 400);
    });

    it('answers 401 and asks for a bearer token on every /v1 route without the API key, or with a wrong one', async () => {
      const routes: [string, string][] = [
        ['POST', '/v1/numbers'],
        ['GET', '/v1/numbers'],
        ['DELETE', '/v1/numbers/%2B6560000001'],
        ['POST', '/v1/numbers/%2B6560000001/restore'],
        ['POST', '/v1/bookings'],
        ['GET', `/v1/bookings/${first}`],
        ['POST', `/v1/bookings/${first}/complete`],
        ['POST', `/v1/bookings/${first}/cancel`],
        ['DELETE', `/v1/bookings/${first}/data`],
        ['GET', '/v1/bookings'],
        ['GET', `/v1/bookings/${first}/events`],
        ['POST', `/v1/bookings/${first}/events/evt_x/redeliver`],
        ['GET', '/v1/operations/summary'],
      ];
      for (const [method, path] of routes) {
        for (const authorization of [null, `Bearer ${API_KEY}-wrong`, API_KEY]) {
          const refusal = await send(method, path, { authorization, ...(method === 'POST' ? { json: {} } : {}) });
          assert.equal(refusal.status, 401, `${method} ${path}`);
          assert.equal(refusal.body.error.code, 'unauthorized');
          assert.equal(refusal.headers.get('www-authenticate'), 'Bearer');
        }
      }
    });

    describe('calls on the booking', () => {
      const sessionId = uniqueId('session');

      it('puts the rider calling the virtual number through to the driver', async () => {
        const answer = await send('POST', '/webhooks/8x8/call-action', {
          json: callReceived(RIDER, virtualNumber, sessionId),
        });
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body, {
          callflow: [{ action: 'makeCall', params: { source: virtualNumber, destination: DRIVER } }],
        });
      });

      it('lets a stranger hear the notice, then ends the call; the follow-up is answered with hangup', async () => {
        const answer = await send('POST', '/webhooks/8x8/call-action', { json: callReceived(STRANGER, virtualNumber) });
        assert.equal(answer.status, 200);
        assert.deepEqual(
          answer.body.callflow.map((action: { action: string }) => action.action),
          ['say', 'hangup'],
        );
        const followUp = callReceived(STRANGER, virtualNumber);
        followUp.payload.callStatus = 'ACTION_COMPLETED';
        const hangup = await send('POST', '/webhooks/8x8/call-action', { json: followUp });
        assert.deepEqual(hangup.body, { callflow: [{ action: 'hangup' }] });
      });

      it('answers a call-action it cannot read with 400 and still the notice callflow', async () => {
        const withoutSource = callReceived(RIDER, virtualNumber);
        delete (withoutSource.payload as { source?: string }).source;
        const invalid = await send('POST', '/webhooks/8x8/call-action', { json: withoutSource });
        assert.equal(invalid.status, 400);
        assert.equal(invalid.body.error.code, 'invalid_webhook');
        assert.match(invalid.body.error.message, /payload\.source/);
        assert.deepEqual(
          invalid.body.callflow.map((action: { action: string }) => action.action),
          ['say', 'hangup'],
        );
      });

      it('answers a call-action without the webhook secret with 401 and still the notice callflow', async () => {
        for (const authorization of [null, 'wrong-secret']) {
          const refusal = await send('POST', '/webhooks/8x8/call-action', {
            json: callReceived(RIDER, virtualNumber),
            authorization,
          });
          assert.equal(refusal.status, 401);
          assert.equal(refusal.body.error.code, 'unauthorized');
          assert.equal(refusal.body.callflow.at(-1).action, 'hangup');
        }
        const bearer = await send('POST', '/webhooks/8x8/call-action', {
          json: callReceived(RIDER, virtualNumber),
          authorization: `Bearer ${WEBHOOK_SECRET}`,
        });
        assert.equal(bearer.status, 200);
      });

      it('records call status and the session summary once, and shows the call on the booking', async () => {
        const connected = callStatus({ sessionId, caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' });
        assert.deepEqual((await send('POST', '/webhooks/8x8/call-status', { json: connected })).body, {
          received: true,
          outcome: 'delivered',
        });
        assert.deepEqual((await send('POST', '/webhooks/8x8/call-status', { json: connected })).body, {
          received: true,
          outcome: 'duplicate',
        });
        const summary = sessionSummary({
          sessionId,
          caller: RIDER,
          virtualNumber,
          callee: DRIVER,
          sessionStatus: 'COMPLETED',
          durationSeconds: 42,
        });
        assert.deepEqual((await send('POST', '/webhooks/8x8/session-summary', { json: summary })).body, {
          received: true,
          outcome: 'delivered',
        });
        assert.deepEqual((await send('POST', '/webhooks/8x8/session-summary', { json: summary })).body, {
          received: true,
          outcome: 'duplicate',
        });
        const recording = callRecordingStatus({ sessionId, durationSeconds: 40 });
        assert.deepEqual((await send('POST', '/webhooks/8x8/call-recording-status', { json: recording })).body, {
          received: true,
          outcome: 'delivered',
        });

        const booking = await eventually(
          () => send('GET', `/v1/bookings/${first}`),
          (answer) =>
            answer.body.calls.some(
              (call: { status: string; recordings?: unknown[] }) => call.status === 'COMPLETED' && call.recordings,
            ),
        );
        assert.deepEqual(
          booking.body.calls.map((call: { callerRole: string; durationSeconds: number }) => [
            call.callerRole,
            call.durationSeconds,
          ]),
          [['rider', 42]],
        );
      });

      it('receives events of calls no booking has as unmatched', async () => {
        const stray = callStatus({
          sessionId: uniqueId('session'),
          caller: STRANGER,
          virtualNumber: '+6560000009',
          callStatus: 'CALL_CONNECTED',
        });
        assert.deepEqual((await send('POST', '/webhooks/8x8/call-status', { json: stray })).body, {
          received: true,
          outcome: 'unmatched',
        });
      });

      it('answers call-status, session-summary and call-recording-status it cannot read with 400 invalid_webhook', async () => {
        for (const path of [
          '/webhooks/8x8/call-status',
          '/webhooks/8x8/session-summary',
          '/webhooks/8x8/call-recording-status',
        ]) {
          const invalid = await send('POST', path, { json: { eventType: 'CALL_STATUS', payload: {} } });
          assert.equal(invalid.status, 400, path);
          assert.equal(invalid.body.error.code, 'invalid_webhook');
        }
      });

      it('answers every webhook without the secret with 401', async () => {
        for (const path of [
          '/webhooks/8x8/call-status',
          '/webhooks/8x8/session-summary',
          '/webhooks/8x8/call-recording-status',
          '/webhooks/8x8',
        ]) {
          const refusal = await send('POST', path, {
            json: callStatus({ sessionId, caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' }),
            authorization: null,
          });
          assert.equal(refusal.status, 401, path);
          assert.equal(refusal.body.error.code, 'unauthorized');
        }
      });

      it('dispatches the single webhook URL on eventType', async () => {
        const connect = await send('POST', '/webhooks/8x8', { json: callReceived(DRIVER, virtualNumber) });
        assert.deepEqual(connect.body, {
          callflow: [{ action: 'makeCall', params: { source: virtualNumber, destination: RIDER } }],
        });
        const status = await send('POST', '/webhooks/8x8', {
          json: callStatus({ sessionId, caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' }),
        });
        assert.deepEqual(status.body, { received: true, outcome: 'delivered' });
        const numberUpdate = await send('POST', '/webhooks/8x8', {
          json: {
            namespace: 'VOICE',
            eventType: 'VIRTUAL_NUMBER_UPDATE',
            description: 'Virtual number update',
            payload: {
              updateEventType: 'UPDATES',
              virtualNumbers: [{ msisdn: '6560000001', operationalStatus: 'Active' }],
            },
          },
        });
        assert.equal(numberUpdate.body.outcome, 'applied');
        const recording = await send('POST', '/webhooks/8x8', {
          json: callRecordingStatus({ sessionId, durationSeconds: 5 }),
        });
        assert.deepEqual(recording.body, { received: true, outcome: 'delivered' });

        const unknown = await send('POST', '/webhooks/8x8', { json: { eventType: 'SMS_RECEIVED', payload: {} } });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.body.error.code, 'unknown_event_type');
        const untyped = await send('POST', '/webhooks/8x8', { json: { payload: {} } });
        assert.equal(untyped.status, 400);
        assert.equal(untyped.body.error.code, 'invalid_webhook');
      });
    });

    describe('while Temporal cannot be reached', () => {
      let outage: OtherServer;

      before(async () => {
        outage = await serveVariant(stack, { down: 'temporal' });
      });
      after(() => outage.stop());

      it('/readyz answers 503 naming Temporal', async () => {
        const notReady = await send('GET', '/readyz', { baseUrl: outage.baseUrl });
        assert.equal(notReady.status, 503);
        assert.deepEqual(notReady.body.checks, { store: 'ok', temporal: 'unavailable' });
        assert.equal(notReady.body.error.code, 'not_ready');
      });

      it('the booking API answers 503 temporal_unavailable with Retry-After', async () => {
        const requests: [string, string, unknown][] = [
          [
            'POST',
            '/v1/bookings',
            {
              bookingId: uniqueId('ride'),
              parties: [
                { role: 'rider', number: RIDER },
                { role: 'driver', number: THIRD_DRIVER },
              ],
            },
          ],
          ['GET', `/v1/bookings/${first}`, undefined],
          ['POST', `/v1/bookings/${first}/complete`, undefined],
          ['POST', `/v1/bookings/${first}/cancel`, undefined],
          ['DELETE', `/v1/bookings/${first}/data`, undefined],
          ['GET', '/v1/bookings', undefined],
          ['GET', `/v1/bookings/${first}/events`, undefined],
          ['POST', `/v1/bookings/${first}/events/evt_x/redeliver`, undefined],
        ];
        const answers = [];
        for (const [method, path, json] of requests)
          answers.push(await send(method, path, { baseUrl: outage.baseUrl, json }));
        for (const [index, unavailable] of answers.entries()) {
          const [method, path] = requests[index]!;
          assert.equal(unavailable.status, 503, `${method} ${path}: ${JSON.stringify(unavailable.body)}`);
          assert.equal(unavailable.body.error.code, 'temporal_unavailable');
          assert.equal(unavailable.headers.get('retry-after'), '5');
        }
      });

      it('calls still connect, and their events are kept for later delivery', async () => {
        const sessionId = uniqueId('session');
        const answer = await send('POST', '/webhooks/8x8/call-action', {
          baseUrl: outage.baseUrl,
          json: callReceived(DRIVER, virtualNumber, sessionId),
        });
        assert.equal(answer.body.callflow[0].action, 'makeCall');
        const status = callStatus({ sessionId, caller: DRIVER, virtualNumber, callStatus: 'CALL_CONNECTED' });
        const pending = await send('POST', '/webhooks/8x8/call-status', { baseUrl: outage.baseUrl, json: status });
        assert.deepEqual(pending.body, { received: true, outcome: 'pending' });
      });
    });

    describe('while the store cannot be reached', () => {
      let outage: OtherServer;

      before(async () => {
        outage = await serveVariant(stack, { down: 'store' });
      });
      after(() => outage.stop());

      it('/readyz answers 503 naming the store', async () => {
        const notReady = await send('GET', '/readyz', { baseUrl: outage.baseUrl });
        assert.equal(notReady.status, 503);
        assert.deepEqual(notReady.body.checks, { store: 'unavailable', temporal: 'ok' });
      });

      it('the number pool, the call records and the operations summary answer 503 store_unavailable', async () => {
        const requests: [string, string, unknown][] = [
          ['POST', '/v1/numbers', { number: '+6560000004' }],
          ['GET', '/v1/numbers', undefined],
          ['DELETE', '/v1/numbers/%2B6560000001', undefined],
          ['POST', '/v1/numbers/%2B6560000001/restore', undefined],
          ['DELETE', `/v1/bookings/${uniqueId('ended')}/data`, undefined],
          ['GET', '/v1/operations/summary', undefined],
          [
            'POST',
            '/webhooks/8x8/call-status',
            callStatus({ sessionId: uniqueId('session'), caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' }),
          ],
          [
            'POST',
            '/webhooks/8x8/session-summary',
            sessionSummary({
              sessionId: uniqueId('session'),
              caller: RIDER,
              virtualNumber,
              callee: DRIVER,
              sessionStatus: 'COMPLETED',
              durationSeconds: 1,
            }),
          ],
          [
            'POST',
            '/webhooks/8x8/call-recording-status',
            callRecordingStatus({ sessionId: uniqueId('session'), durationSeconds: 1 }),
          ],
          [
            'POST',
            '/webhooks/8x8',
            callStatus({ sessionId: uniqueId('session'), caller: RIDER, virtualNumber, callStatus: 'CALL_CONNECTED' }),
          ],
        ];
        for (const [method, path, json] of requests) {
          const failed = await send(method, path, { baseUrl: outage.baseUrl, json });
          assert.equal(failed.status, 503, `${method} ${path}`);
          assert.equal(failed.body.error.code, 'store_unavailable');
        }
      });

      it('a caller hears the notice rather than silence', async () => {
        const answer = await send('POST', '/webhooks/8x8/call-action', {
          baseUrl: outage.baseUrl,
          json: callReceived(RIDER, virtualNumber),
        });
        assert.equal(answer.status, 200);
        assert.deepEqual(
          answer.body.callflow.map((action: { action: string }) => action.action),
          ['say', 'hangup'],
        );
      });
    });

    describe('closing bookings', () => {
      it('completes a booking with 202 completing, and accepts the repeat', async () => {
        for (let attempt = 0; attempt < 2; attempt += 1) {
          const completed = await send('POST', `/v1/bookings/${first}/complete`);
          assert.equal(completed.status, 202);
          assert.deepEqual(completed.body, { bookingId: first, status: 'completing' });
        }
      });

      it('cancels a booking with 202 cancelled; an event of its call that comes after it ended is kept as booking_ended', async () => {
        const sessionId = uniqueId('session');
        const call = await send('POST', '/webhooks/8x8/call-action', {
          json: callReceived(SECOND_DRIVER, secondNumber, sessionId),
        });
        assert.equal(call.body.callflow[0].action, 'makeCall');

        const cancelled = await send('POST', `/v1/bookings/${second}/cancel`);
        assert.equal(cancelled.status, 202);
        assert.deepEqual(cancelled.body, { bookingId: second, status: 'cancelled' });

        await eventually(
          () => send('GET', `/v1/bookings/${second}`),
          (answer) => answer.body.endedAt !== null,
        );
        const late = await eventually(
          () =>
            send('POST', '/webhooks/8x8/call-status', {
              json: callStatus({
                sessionId,
                caller: SECOND_DRIVER,
                virtualNumber: secondNumber,
                callStatus: 'CALL_CONNECTED',
              }),
            }),
          (answer) => answer.body.outcome === 'booking_ended',
        );
        assert.equal(late.status, 200);
      });

      it('refuses to complete a cancelled booking, or to close a refused one, with 409 booking_closed', async () => {
        for (const path of [
          `/v1/bookings/${second}/complete`,
          `/v1/bookings/${refused}/cancel`,
          `/v1/bookings/${refused}/complete`,
        ]) {
          const closed = await send('POST', path);
          assert.equal(closed.status, 409, path);
          assert.equal(closed.body.error.code, 'booking_closed');
        }
      });

      it('erases an ended booking with 202, refuses a live one with 409 booking_live, an unknown one with 404', async () => {
        const live = await send('DELETE', `/v1/bookings/${first}/data`);
        assert.equal(live.status, 409);
        assert.equal(live.body.error.code, 'booking_live');
        const erased = await send('DELETE', `/v1/bookings/${refused}/data`);
        assert.equal(erased.status, 202);
        assert.equal(erased.body.erased.workflowRuns, 1);
        const unknown = await send('DELETE', `/v1/bookings/${uniqueId('ride')}/data`);
        assert.equal(unknown.status, 404);
        assert.equal(unknown.body.error.code, 'booking_not_found');
      });

      it('answers 404 booking_not_found when closing a booking that never was', async () => {
        for (const action of ['complete', 'cancel']) {
          const unknown = await send('POST', `/v1/bookings/${uniqueId('ride')}/${action}`);
          assert.equal(unknown.status, 404);
          assert.equal(unknown.body.error.code, 'booking_not_found');
        }
      });
    });
  });

  describe('PIN fallback', () => {
    // Malaysian parties and a Malaysian PIN number: no ordinary number of the pool is of their country, so a
    // `strict` booking is refused an ordinary one whatever the other tests hold, and falls back to the PIN set.
    const pinNumber = '+60323456789';
    const customer = '+60123456789';
    const courier = '+60198765432';

    it('adds a number to the PIN set, refuses a strict booking without the fallback, and gives one with it a PIN', async () => {
      const added = await send('POST', '/v1/numbers', { json: { number: pinNumber, use: 'pin' } });
      assert.equal(added.status, 201);
      assert.equal(added.body.use, 'pin');
      const parties = [
        { role: 'customer', number: customer },
        { role: 'courier', number: courier },
      ];
      const refused = await send('POST', '/v1/bookings', {
        json: { bookingId: uniqueId('pin'), parties, geoMatch: 'strict' },
      });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'no_number_available');
      const bookingId = uniqueId('pin');
      const created = await send('POST', '/v1/bookings', {
        json: { bookingId, parties, geoMatch: 'strict', fallback: 'pin' },
      });
      assert.equal(created.status, 201);
      assert.equal(created.body.virtualNumber, pinNumber);
      assert.equal(created.body.mode, 'pin');
      const read = await send('GET', `/v1/bookings/${bookingId}`);
      assert.equal(read.body.pin, created.body.pin);

      const sessionId = uniqueId('session');
      const asked = await send('POST', '/webhooks/8x8/call-action', {
        json: callReceived(courier, pinNumber, sessionId),
      });
      assert.deepEqual(
        asked.body.callflow.map((action: { action: string }) => action.action),
        ['sayAndCapture'],
      );
      const entered = digitsEntered(courier, pinNumber, {
        sessionId,
        clientActionId: asked.body.clientActionId,
        digits: created.body.pin,
      });
      const connected = await send('POST', '/webhooks/8x8/call-action', { json: entered });
      assert.deepEqual(connected.body, {
        callflow: [{ action: 'makeCall', params: { source: pinNumber, destination: customer } }],
      });
      assert.equal((await send('POST', `/v1/bookings/${bookingId}/cancel`)).status, 202);
    });
  });

  describe('webhooks from an address off the allow-list', () => {
    let guarded: OtherServer;

    before(async () => {
      guarded = await serveVariant(stack, { config: { webhookAllowedSources: ['18.140.80.2', '52.220.253.0/24'] } });
    });
    after(() => guarded.stop());

    it('are refused with 403 forbidden_source, and a call-action still gets the notice callflow', async () => {
      for (const path of [
        '/webhooks/8x8/call-action',
        '/webhooks/8x8/call-status',
        '/webhooks/8x8/session-summary',
        '/webhooks/8x8/call-recording-status',
        '/webhooks/8x8',
      ]) {
        const refusal = await send('POST', path, {
          baseUrl: guarded.baseUrl,
          json: callReceived(RIDER, '+6560000001'),
        });
        assert.equal(refusal.status, 403, path);
        assert.equal(refusal.body.error.code, 'forbidden_source');
        if (path.endsWith('/call-action')) assert.equal(refusal.body.callflow.at(-1).action, 'hangup');
      }
    });
  });

  describe('the codec endpoint', () => {
    const codec = `Bearer ${CODEC_TOKEN}`;
    const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: 'eyJhIjoxfQ==' };

    it('encodes and decodes payloads with 200, and answers the preflight with 204', async () => {
      const encoded = await send('POST', '/codec/encode', { authorization: codec, json: { payloads: [plain] } });
      assert.equal(encoded.status, 200);
      const decoded = await send('POST', '/codec/decode', { authorization: codec, json: encoded.body });
      assert.equal(decoded.status, 200);
      assert.deepEqual(decoded.body, { payloads: [plain] });
      for (const path of ['/codec/decode', '/codec/encode']) {
        const preflight = await send('OPTIONS', path, {
          authorization: null,
          headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST' },
        });
        assert.equal(preflight.status, 204);
      }
    });

    it('refuses a missing token with 401, a bad body with 400, a body over 4 MB with 413', async () => {
      for (const path of ['/codec/decode', '/codec/encode']) {
        assert.equal((await send('POST', path, { authorization: null, json: { payloads: [] } })).status, 401);
        assert.equal((await send('POST', path, { authorization: codec, json: { payloads: 'x' } })).status, 400);
        assert.equal((await send('POST', path, { authorization: codec, raw: '{"payloads": ' })).status, 400);
        const huge = JSON.stringify({ payloads: [{ data: 'x'.repeat(4 * 1024 * 1024 + 4) }] });
        assert.equal((await send('POST', path, { authorization: codec, raw: huge })).status, 413);
      }
    });

    it('answers 422 to a payload encrypted with a key it does not have', async () => {
      const foreign = {
        metadata: {
          encoding: Buffer.from('binary/encrypted').toString('base64'),
          'encryption-key-id': Buffer.from('retired-key').toString('base64'),
        },
        data: Buffer.alloc(40).toString('base64'),
      };
      const answer = await send('POST', '/codec/decode', { authorization: codec, json: { payloads: [foreign] } });
      assert.equal(answer.status, 422);
      assert.equal(answer.body.error.code, 'undecodable_payload');
    });
  });

  describe('request bodies', () => {
    it('answers a body over 64 KB with 413 payload_too_large on every route that reads one', async () => {
      const oversized = JSON.stringify({ eventType: 'CALL_ACTION', padding: 'x'.repeat(65 * 1024) });
      for (const path of BODY_ROUTES) {
        const tooLarge = await send('POST', path, { raw: oversized });
        assert.equal(tooLarge.status, 413, path);
        assert.equal(tooLarge.body.error.code, 'payload_too_large');
      }
    });

    it('answers a body that is not JSON with 400 invalid_json on every route that reads one', async () => {
      for (const path of BODY_ROUTES) {
        const invalid = await send('POST', path, { raw: '{"bookingId": ' });
        assert.equal(invalid.status, 400, path);
        assert.equal(invalid.body.error.code, 'invalid_json');
      }
    });

    it('refuses a body with a "__proto__" key (prototype poisoning) with 400 invalid_json saying why', async () => {
      for (const path of BODY_ROUTES) {
        const poisoned = await send('POST', path, {
          raw: '{"eventType": "CALL_ACTION", "payload": {"__proto__": {}}}',
        });
        assert.equal(poisoned.status, 400, path);
        assert.equal(poisoned.body.error.code, 'invalid_json');
        assert.match(poisoned.body.error.message, /"__proto__"/);
      }
    });

    it('answers a body in an unknown Content-Encoding with 415 unsupported_media_type', async () => {
      for (const path of BODY_ROUTES) {
        const unsupported = await send('POST', path, { raw: '{}', headers: { 'content-encoding': 'compress' } });
        assert.equal(unsupported.status, 415, path);
        assert.equal(unsupported.body.error.code, 'unsupported_media_type');
      }
    });

    it('keeps the notice callflow on call-action error answers', async () => {
      const tooLarge = await send('POST', '/webhooks/8x8/call-action', {
        raw: JSON.stringify({ padding: 'x'.repeat(65 * 1024) }),
      });
      assert.equal(tooLarge.body.callflow.at(-1).action, 'hangup');
      const invalid = await send('POST', '/webhooks/8x8/call-action', { raw: 'not json' });
      assert.equal(invalid.body.callflow.at(-1).action, 'hangup');
    });
  });

  it('produces every documented answer for real, but those listed with a reason', () => {
    const missing = documentedAnswers(document).filter(
      (answer) => !produced.has(answer) && !(answer in NOT_PRODUCED_HERE),
    );
    assert.deepEqual(missing, []);
  });
});

interface OtherServer {
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * The stack's HTTP application, wired as the server process wires it, with other settings, or with the store
 * or Temporal at an address where nothing answers: what the API says during an outage.
 */
async function serveVariant(
  stack: Stack,
  variant: { down?: 'store' | 'temporal'; config?: Partial<Config> },
): Promise<OtherServer> {
  const nowhere = '127.0.0.1:1';
  let database = stack.database;
  let temporal = stack.temporal;
  let mongo: MongoClient | null = null;
  let connection: Connection | null = null;
  if (variant.down === 'store') {
    mongo = new MongoClient(`mongodb://${nowhere}/maskline_down?directConnection=true`, {
      serverSelectionTimeoutMS: 300,
    });
    const db = mongo.db();
    const client = mongo;
    database = {
      client,
      db,
      collections: {
        numbers: db.collection('numbers'),
        claims: db.collection('claims'),
        leases: db.collection('leases'),
        callSessions: db.collection('callSessions'),
        callEvents: db.collection('callEvents'),
        endedPairings: db.collection('endedPairings'),
        pairs: db.collection('pairs'),
        pins: db.collection('pins'),
        pinAttempts: db.collection('pinAttempts'),
      },
      close: () => client.close(),
    } satisfies Database;
  } else if (variant.down === 'temporal') {
    // No gRPC retry interceptor: each call fails at once instead of after the client's ~20 s of retries.
    connection = Connection.lazy({ address: nowhere, connectTimeout: '1 second', interceptors: [] });
    temporal = new Client({
      connection,
      namespace: stack.config.temporalNamespace,
      dataConverter: createDataConverter(stack.config.encryptionKeys),
    });
  }
  const logger = createLogger({ level: 'silent', destination: new CapturedLogs() });
  const config = { ...stack.config, ...variant.config };
  const { app } = createHttpApplication(config, { database, temporal, logger });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      server.close();
      await connection?.close().catch(() => undefined);
      await mongo?.close();
    },
  };
}
