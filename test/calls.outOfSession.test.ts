import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { bookingWorkflowId } from '../src/bookings/contract';
import { bookingEventsWorkflowId } from '../src/events/messages';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { callRecordRetentionWorkflow } from '../workflows/retention';
import { createHttpApplication } from '../src/server/httpApplication';
import { createLogger } from '../src/logging/logger';
import { validateCallActionAnswer } from '../harness/eightbyeightSchemas';
import { validateAt, type OpenApiDocument } from '../harness/openapi';
import { openApiDocument } from '../src/http/openapi';
import { EventReceiver } from '../harness/eventReceiver';
import { findPhoneNumber } from '../harness/privacy';
import { api, CapturedLogs, eventually, startStack, uniqueId, webhook as post, type Stack } from '../harness/stack';

// Calls that no live booking routes: a late caller of a recently ended booking goes where the booking chose,
// within the deployment's window; anyone else gets the deployment's out-of-session policy. Every answer is a
// callflow 8x8's schemas accept.

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const SUPPORT = '+6560009999';
const PLATFORM_NUMBER = '+6560009988';
const VN = '+6560007001';

interface Asked {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The booking platform's `ask` endpoint: a real HTTP server on loopback, one behaviour per path. */
async function startPlatform(): Promise<{ server: Server; url: string; asked: Asked[]; answered: unknown[] }> {
  const asked: Asked[] = [];
  const answered: unknown[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const path = request.url ?? '';
      asked.push({ path, headers: request.headers, body });
      const json = (value: unknown) => {
        answered.push(value);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      const question = JSON.parse(body) as { recentBooking: { otherRole: string } | null };
      if (path === '/slow') {
        // Answers well, but long after the budget.
        setTimeout(() => json({ action: 'say', text: 'too late' }), 3_000).unref();
      } else if (path === '/invalid') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"action": "connect", ');
      } else if (path === '/wrong-shape') {
        json({ action: 'connect', role: 'nobody-of-this-booking' });
      } else if (path === '/role') {
        json({ action: 'connect', role: question.recentBooking?.otherRole });
      } else if (path === '/say') {
        json({ action: 'say', text: 'Your ride has ended. Please use the app to reach support.' });
      } else if (path === '/stranger') {
        json({ action: 'connect', number: PLATFORM_NUMBER });
      } else {
        response.writeHead(404).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, asked, answered };
}

async function callAction(stack: { baseUrl: string } | Stack, caller: string, virtualNumber = VN) {
  const answer = await post(stack as Stack, '/call-action', callReceived(caller, virtualNumber));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.deepEqual(validateCallActionAnswer(answer.body).errors, [], JSON.stringify(answer.body));
  return answer.body as { callflow: { action: string; params?: Record<string, unknown> }[] };
}

const connectsTo = (destination: string) => [{ action: 'makeCall', params: { source: VN, destination } }];
const actions = (answer: { callflow: { action: string }[] }) => answer.callflow.map((action) => action.action);

let serial = 0;
function people() {
  serial += 1;
  const n = String(serial).padStart(2, '0');
  return { rider: `+65912370${n}`, driver: `+65987670${n}` };
}

/** A booking on the pool's one number, ended (cancelled, so at once) and its number given back. */
async function endedBooking(stack: Stack, outOfSession?: Record<string, unknown>, callbackUrl?: string) {
  const { rider, driver } = people();
  const bookingId = uniqueId('late');
  const created = await api(stack, 'POST', '/v1/bookings', {
    bookingId,
    parties: [
      { role: 'rider', number: rider },
      { role: 'driver', number: driver },
    ],
    ...(outOfSession ? { outOfSession } : {}),
    ...(callbackUrl ? { callbackUrl } : {}),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.virtualNumber, VN);
  assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`)).status, 202);
  await stack.temporal.workflow
    .getHandle(bookingWorkflowId(bookingId))
    .result()
    .catch(() => undefined);
  return { bookingId, rider, driver };
}

describe('late callers of a recently ended booking, and callers no booking knows', () => {
  let stack: Stack;
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  let receiver: EventReceiver;

  before(async () => {
    platform = await startPlatform();
    receiver = await EventReceiver.start();
    stack = await startStack({
      env: {
        MASKLINE_EVENTS_SECRETS: SECRET,
        MASKLINE_ENDED_BOOKING_WINDOW: '2h',
        MASKLINE_SUPPORT_NUMBER: SUPPORT,
        MASKLINE_OUT_OF_SESSION_POLICY: 'ask',
        MASKLINE_ASK_URL: `${platform.url}/stranger`,
        MASKLINE_ASK_FALLBACK: 'forward',
      },
    });
    // One number: every booking gets it, so the ended ones' pairings sit on the number later bookings reuse.
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: VN })).status, 201);
  });
  after(async () => {
    await stack?.stop();
    platform?.server.close();
    await receiver?.down();
  });

  it('puts a party of an ended booking through to the other party, either way, with the VN as caller ID', async () => {
    const { rider, driver } = await endedBooking(stack);
    assert.deepEqual((await callAction(stack, rider)).callflow, connectsTo(driver));
    assert.deepEqual((await callAction(stack, driver)).callflow, connectsTo(rider));
  });

  it('gives the number to the next booking at once, and a live booking of the caller on it wins', async () => {
    const { rider, driver } = await endedBooking(stack);
    const newDriver = '+6598767999';
    const bookingId = uniqueId('live');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: rider },
        { role: 'driver', number: newDriver },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.virtualNumber, VN);
    assert.deepEqual((await callAction(stack, rider)).callflow, connectsTo(newDriver));
    // The old driver still reaches the rider through the ended booking.
    assert.deepEqual((await callAction(stack, driver)).callflow, connectsTo(rider));
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
  });

  it('forwards a late caller to support when the booking chose `support`', async () => {
    const { rider } = await endedBooking(stack, { afterEnd: 'support' });
    assert.deepEqual((await callAction(stack, rider)).callflow, connectsTo(SUPPORT));
  });

  it('plays the notice to a late caller when the booking chose `notice`', async () => {
    const { rider } = await endedBooking(stack, { afterEnd: 'notice' });
    const answer = await callAction(stack, rider);
    assert.deepEqual(actions(answer), ['say', 'hangup']);
    assert.equal(answer.callflow[0]!.params!.text, stack.config.unknownCallerNotice);
  });

  it('asks the platform, signed, with roles and no number, and connects to the party it names', async () => {
    const { bookingId, rider, driver } = await endedBooking(stack, {
      afterEnd: 'ask',
      askUrl: `${platform.url}/role`,
    });
    assert.deepEqual((await callAction(stack, rider)).callflow, connectsTo(driver));
    const asked = platform.asked.filter((request) => request.path === '/role').at(-1)!;
    const question = new Webhook(SECRET).verify(asked.body, {
      'webhook-id': String(asked.headers['webhook-id']),
      'webhook-timestamp': String(asked.headers['webhook-timestamp']),
      'webhook-signature': String(asked.headers['webhook-signature']),
    }) as Record<string, unknown>;
    assert.equal(question.virtualNumber, VN);
    assert.deepEqual(
      { ...(question.recentBooking as object), endedAt: undefined },
      { bookingId, callerRole: 'rider', otherRole: 'driver', endedAt: undefined },
    );
    assert.equal('caller' in question, false);
    assert.doesNotMatch(asked.body, new RegExp(rider.slice(1)));
    assert.doesNotMatch(asked.body, new RegExp(driver.slice(1)));
  });

  it('says what the platform answers, then ends the call', async () => {
    const { rider } = await endedBooking(stack, { afterEnd: 'ask', askUrl: `${platform.url}/say` });
    const answer = await callAction(stack, rider);
    assert.deepEqual(actions(answer), ['say', 'hangup']);
    assert.equal(answer.callflow[0]!.params!.text, 'Your ride has ended. Please use the app to reach support.');
  });

  it('falls back (here: forward to support) when the platform answers too slowly', async () => {
    const { rider } = await endedBooking(stack, { afterEnd: 'ask', askUrl: `${platform.url}/slow` });
    const started = Date.now();
    assert.deepEqual((await callAction(stack, rider)).callflow, connectsTo(SUPPORT));
    // Not a speed assertion: the answer did not wait for the platform's (3 s) answer.
    assert.ok(Date.now() - started < 3_000);
  });

  it('falls back when the platform answers with invalid JSON, or names a role the caller has no booking with', async () => {
    const invalid = await endedBooking(stack, { afterEnd: 'ask', askUrl: `${platform.url}/invalid` });
    assert.deepEqual((await callAction(stack, invalid.rider)).callflow, connectsTo(SUPPORT));
    const wrong = await endedBooking(stack, { afterEnd: 'ask', askUrl: `${platform.url}/wrong-shape` });
    assert.deepEqual((await callAction(stack, wrong.rider)).callflow, connectsTo(SUPPORT));
  });

  it('asks the platform about a caller no booking knows (the deployment policy), without a recent booking', async () => {
    const stranger = '+6581117001';
    assert.deepEqual((await callAction(stack, stranger)).callflow, connectsTo(PLATFORM_NUMBER));
    const asked = platform.asked.filter((request) => request.path === '/stranger').at(-1)!;
    assert.equal(JSON.parse(asked.body).recentBooking, null);
    assert.doesNotMatch(asked.body, /81117001/);
  });

  it('keeps no party number in clear in the ended pairings, and erasure deletes a booking’s', async () => {
    const { bookingId, rider, driver } = await endedBooking(stack);
    const stored = await stack.database.collections.endedPairings.find({ bookingId }).toArray();
    assert.equal(stored.length, 2);
    const text = JSON.stringify(stored);
    // In no form: digits with any punctuation, character codes, base64 at any alignment.
    for (const number of [rider, driver]) assert.equal(findPhoneNumber(text, number), null);
    const erased = await api(stack, 'DELETE', `/v1/bookings/${bookingId}/data`);
    assert.equal(erased.status, 202, JSON.stringify(erased.body));
    assert.equal(await stack.database.collections.endedPairings.countDocuments({ bookingId }), 0);
    // The rider is now a stranger to this number: the deployment's policy (ask) answers.
    assert.deepEqual((await callAction(stack, rider)).callflow, connectsTo(PLATFORM_NUMBER));
  });

  it('tells the booking `call.turned_away` when a late caller is not put through, and not when they are', async () => {
    const document = openApiDocument as unknown as OpenApiDocument;
    const connected = await endedBooking(stack, { afterEnd: 'other_party' }, receiver.url);
    const turnedAway = await endedBooking(stack, { afterEnd: 'notice' }, receiver.url);
    const connectedCall = await post(stack, '/call-action', callReceived(connected.rider, VN));
    assert.equal(connectedCall.body.callflow[0].action, 'makeCall');
    const sessionId = uniqueId('late-session');
    const call = callReceived(turnedAway.driver, VN, sessionId);
    assert.equal((await post(stack, '/call-action', call)).body.callflow[0].action, 'say');
    // 8x8 repeats the call action: still one event.
    await post(stack, '/call-action', call);

    const received = await eventually(
      async () => receiver.accepted().filter((event) => event.type === 'call.turned_away'),
      (events) => events.length > 0,
    );
    assert.equal(new Set(received.map((e) => e.id)).size, 1, JSON.stringify(received));
    const [event] = received;
    assert.equal(event!.bookingId, turnedAway.bookingId);
    assert.deepEqual(
      { ...event!.data, calledAt: undefined },
      { sessionId, caller: { role: 'driver' }, route: 'notice', handledAs: 'notice', calledAt: undefined },
    );
    assert.deepEqual(validateAt(document, ['components', 'schemas', 'BookingEvent'], event), []);
    const raw = receiver.received.find((request) => request.body.includes('call.turned_away'))!;
    new Webhook(SECRET).verify(raw.body, {
      'webhook-id': String(raw.headers['webhook-id']),
      'webhook-timestamp': String(raw.headers['webhook-timestamp']),
      'webhook-signature': String(raw.headers['webhook-signature']),
    });
    // Read back, after the booking's own events, with the booking's id stem.
    const events = await eventually(
      () => api(stack, 'GET', `/v1/bookings/${turnedAway.bookingId}/events`),
      (answer) => answer.status === 200 && answer.body.events.at(-1)?.event.type === 'call.turned_away',
    );
    const types = events.body.events.map((record: { event: { type: string } }) => record.event.type);
    assert.deepEqual(types, ['booking.active', 'booking.cancelled', 'call.turned_away']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const other = await api(stack, 'GET', `/v1/bookings/${connected.bookingId}/events`);
    assert.deepEqual(
      other.body.events.map((record: { event: { type: string } }) => record.event.type),
      ['booking.active', 'booking.cancelled'],
    );
    // Delivery is at least once: the same event may arrive again (a receiver dedupes by id), never a second one.
    const ids = new Set(receiver.accepted().flatMap((e) => (e.type === 'call.turned_away' ? [e.id] : [])));
    assert.deepEqual([...ids], [event!.id]);
  });

  it('a call action 8x8 repeats after the events workflow has delivered everything still gives one call.turned_away', async () => {
    const turnedAway = await endedBooking(stack, { afterEnd: 'notice' }, receiver.url);
    const call = callReceived(turnedAway.driver, VN, uniqueId('late-session'));
    assert.equal((await post(stack, '/call-action', call)).body.callflow[0].action, 'say');
    // The booking ended: its late event went to a booking-events workflow, which ends once it has delivered it.
    const { runId } = await stack.temporal.workflow.getHandle(bookingWorkflowId(turnedAway.bookingId)).describe();
    const eventsWorkflow = stack.temporal.workflow.getHandle(bookingEventsWorkflowId(turnedAway.bookingId, runId));
    await eventually(
      async () => (await eventsWorkflow.describe().catch(() => null))?.status.name,
      (status) => status === 'COMPLETED',
      30_000,
    );
    // 8x8's repeat comes now: a new events workflow takes it, and must know the call was told already.
    assert.equal((await post(stack, '/call-action', call)).body.callflow[0].action, 'say');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const events = await eventually(
      () => api(stack, 'GET', `/v1/bookings/${turnedAway.bookingId}/events`),
      (answer) => answer.status === 200,
    );
    const types = events.body.events.map((record: { event: { type: string } }) => record.event.type);
    assert.deepEqual(types, ['booking.active', 'booking.cancelled', 'call.turned_away']);
    const delivered = receiver
      .accepted()
      .filter((event) => event.bookingId === turnedAway.bookingId && event.type === 'call.turned_away');
    assert.equal(new Set(delivered.map((event) => event.id)).size, 1, JSON.stringify(delivered));
  });

  it('asked and answered as the OpenAPI document’s `call.out_of_session` webhook describes', () => {
    const document = openApiDocument as unknown as OpenApiDocument;
    const operation = ['webhooks', 'call.out_of_session', 'post'];
    assert.ok(platform.asked.length >= 5);
    for (const asked of platform.asked) {
      const schema = [...operation, 'requestBody', 'content', 'application/json', 'schema'];
      assert.deepEqual(validateAt(document, schema, JSON.parse(asked.body)), [], asked.body);
    }
    // Every answer the platform gave as JSON is one the document takes (the invalid one is not JSON).
    const answerSchema = [...operation, 'responses', '200', 'content', 'application/json', 'schema'];
    for (const answer of platform.answered) {
      assert.deepEqual(validateAt(document, answerSchema, answer), [], JSON.stringify(answer));
    }
  });

  it('refuses an askUrl that is not https (nor loopback http)', async () => {
    const refused = await api(stack, 'POST', '/v1/bookings', {
      bookingId: uniqueId('bad-ask'),
      parties: [
        { role: 'rider', number: '+6591237900' },
        { role: 'driver', number: '+6598767900' },
      ],
      outOfSession: { afterEnd: 'ask', askUrl: 'http://169.254.169.254/latest/meta-data' },
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /^outOfSession\.askUrl: /);
  });

  it('a server of the same deployment with the `forward` policy puts a stranger through to support', async () => {
    const logs = new CapturedLogs();
    const config = {
      ...stack.config,
      outOfSession: { ...stack.config.outOfSession, policy: 'forward' as const },
    };
    const { app } = createHttpApplication(config, {
      database: stack.database,
      temporal: stack.temporal,
      logger: createLogger({ level: 'info', destination: logs }),
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const other = { ...stack, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
      assert.deepEqual((await callAction(other, '+6581117002')).callflow, connectsTo(SUPPORT));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('the late-call window closes', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { MASKLINE_ENDED_BOOKING_WINDOW: '2s' } });
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: VN })).status, 201);
  });
  after(async () => stack?.stop());

  it('routes a late caller inside the window, plays the notice after it, and retention deletes the pairing', async () => {
    const { bookingId, rider, driver } = await endedBooking(stack);
    assert.deepEqual((await callAction(stack, rider)).callflow, connectsTo(driver));
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const answer = await callAction(stack, rider);
    assert.deepEqual(actions(answer), ['say', 'hangup']);
    assert.equal(answer.callflow[0]!.params!.text, stack.config.unknownCallerNotice);

    assert.equal(await stack.database.collections.endedPairings.countDocuments({ bookingId }), 2);
    // The retention schedule's workflow, run now on the stack's worker.
    const result = await stack.temporal.workflow.execute(callRecordRetentionWorkflow, {
      workflowId: uniqueId('retention'),
      taskQueue: stack.config.temporalTaskQueue,
      args: [90],
    });
    assert.ok((result.endedPairings ?? 0) >= 2, JSON.stringify(result));
    assert.equal(await stack.database.collections.endedPairings.countDocuments({ bookingId }), 0);
  });
});
