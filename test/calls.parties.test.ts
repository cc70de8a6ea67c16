import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { digitsEntered, callReceived, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import fc from 'fast-check';
import { CallRouter } from '../src/calls/callRouter';
import { MENU_ACTION_ID } from '../src/calls/partyMenu';
import { bookingWorkflowId } from '../src/bookings/contract';
import type { Route } from '../src/domain/callRouting';
import { parseCallAction, type CallActionEvent } from '../src/eightbyeight';
import { createLogger } from '../src/logging/logger';
import { validateCallActionAnswer } from '../harness/eightbyeightSchemas';
import { validateRequestBody, validateResponse, type OpenApiDocument } from '../harness/openapi';
import { openApiDocument } from '../src/http/openapi';
import { EventReceiver } from '../harness/eventReceiver';
import { api, eventually, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

// Bookings of three (up to five) people: each caller reaches the parties the booking lets them reach, at once
// when there is one, through a menu of roles when there are several. Every answer is a callflow 8x8's schemas
// accept; every booking answer is the shape our OpenAPI document gives.

const VN = '+6560007301';
const DELIVERY_REACH = { customer: ['courier'], restaurant: ['courier'], courier: ['customer', 'restaurant'] };

interface Callflow {
  clientActionId?: string;
  callflow: { action: string; params?: Record<string, unknown> }[];
}

let serial = 0;
function delivery() {
  serial += 1;
  const n = String(serial).padStart(2, '0');
  return { customer: `+65912380${n}`, courier: `+65987680${n}`, restaurant: `+65612380${n}` };
}

const connectsTo = (destination: string) => [{ action: 'makeCall', params: { source: VN, destination } }];
const actions = (answer: Callflow) => answer.callflow.map((action) => action.action);

describe('bookings with several parties: who may reach whom, and the menu of a caller with a choice', () => {
  let stack: Stack;
  let receiver: EventReceiver;
  let document: OpenApiDocument;

  before(async () => {
    receiver = await EventReceiver.start();
    stack = await startStack({
      env: {
        MASKLINE_EVENTS_URL: receiver.url,
        MASKLINE_EVENTS_SECRETS: `whsec_${randomBytes(24).toString('base64')}`,
        MASKLINE_ENDED_BOOKING_WINDOW: '2h',
      },
    });
    document = openApiDocument as unknown as OpenApiDocument;
    // One number: every booking here gets it unless its people hold it already.
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: VN })).status, 201);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.down();
  });

  /** A call action to 8x8's schemas: the caller dials the VN (or presses a key, with `digits`). */
  async function call(caller: string, sessionId = randomUUID(), digits?: string | null): Promise<Callflow> {
    const body =
      digits === undefined
        ? callReceived(caller, VN, sessionId)
        : digitsEntered(caller, VN, { sessionId: sessionId, clientActionId: MENU_ACTION_ID, digits });
    const answer = await webhook(stack, '/call-action', body);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(validateCallActionAnswer(answer.body).errors, [], JSON.stringify(answer.body));
    return answer.body as Callflow;
  }

  function isNotice(answer: Callflow): boolean {
    return (
      JSON.stringify(actions(answer)) === JSON.stringify(['say', 'hangup']) &&
      answer.callflow[0]!.params!.text === stack.config.unknownCallerNotice
    );
  }

  async function book(people = delivery(), extra: Record<string, unknown> = { reach: DELIVERY_REACH }) {
    const bookingId = uniqueId('trio');
    const request = {
      bookingId,
      parties: [
        { role: 'customer', number: people.customer },
        { role: 'courier', number: people.courier },
        { role: 'restaurant', number: people.restaurant },
      ],
      ...extra,
    };
    const created = await api(stack, 'POST', '/v1/bookings', request);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(validateResponse(document, 'POST', '/v1/bookings', 201, created.body), []);
    assert.deepEqual(validateRequestBody(document, 'POST', '/v1/bookings', request), []);
    assert.equal(created.body.virtualNumber, VN);
    return { bookingId, people, request, created: created.body as Record<string, unknown> };
  }

  const cancel = (bookingId: string) => api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);

  it('puts the customer and the restaurant through to the courier at once', async () => {
    const { bookingId, people } = await book();
    assert.deepEqual((await call(people.customer)).callflow, connectsTo(people.courier));
    assert.deepEqual((await call(people.restaurant)).callflow, connectsTo(people.courier));
    await cancel(bookingId);
  });

  it('offers the courier a menu of roles, never numbers, and each digit reaches its party', async () => {
    const { bookingId, people } = await book();
    const menu = await call(people.courier);
    assert.deepEqual(actions(menu), ['sayAndCapture']);
    assert.equal(menu.clientActionId, MENU_ACTION_ID);
    const params = menu.callflow[0]!.params!;
    assert.equal(params.promptMessage, 'Press 1 for the customer, 2 for the restaurant.');
    assert.equal(params.minDigits, 1);
    assert.equal(params.maxDigits, 1);
    // The notice follows a menu left unanswered: 8x8's own failure message must not say it first.
    assert.notEqual(params.failureMessage, stack.config.unknownCallerNotice);
    const said = JSON.stringify(menu);
    for (const number of Object.values(people)) assert.doesNotMatch(said, new RegExp(number.slice(3)));

    assert.deepEqual((await call(people.courier, randomUUID(), '1')).callflow, connectsTo(people.customer));
    assert.deepEqual((await call(people.courier, randomUUID(), '2')).callflow, connectsTo(people.restaurant));
    // 8x8 may pass the terminating # along.
    assert.deepEqual((await call(people.courier, randomUUID(), '2#')).callflow, connectsTo(people.restaurant));
    await cancel(bookingId);
  });

  it('ends with the notice for a digit of no party, several digits, or no key pressed', async () => {
    const { bookingId, people } = await book();
    for (const digits of ['3', '0', '9', '12', '*', '', null]) {
      assert.ok(isNotice(await call(people.courier, randomUUID(), digits)), `digits ${JSON.stringify(digits)}`);
    }
    // A menu choice of a caller the booking offers no menu, or a stranger's, goes nowhere either.
    assert.ok(isNotice(await call(people.customer, randomUUID(), '2')), 'the customer cannot pick the restaurant');
    assert.ok(isNotice(await call('+6581119001', randomUUID(), '1')), 'a stranger pressing 1');
    await cancel(bookingId);
  });

  it('the customer cannot reach the restaurant, nor a role the booking lets reach nobody anyone', async () => {
    const people = delivery();
    const { bookingId } = await book(people, { reach: { customer: ['courier'], courier: ['customer'] } });
    assert.deepEqual((await call(people.customer)).callflow, connectsTo(people.courier));
    assert.deepEqual((await call(people.courier)).callflow, connectsTo(people.customer));
    // The restaurant is a party (it holds the number), but reaches nobody.
    assert.ok(isNotice(await call(people.restaurant)));
    await cancel(bookingId);
  });

  it('without reach, every party of three gets the menu of the two others', async () => {
    const { bookingId, people } = await book(delivery(), {});
    const menus = {
      customer: 'Press 1 for the courier, 2 for the restaurant.',
      courier: 'Press 1 for the customer, 2 for the restaurant.',
      restaurant: 'Press 1 for the customer, 2 for the courier.',
    };
    for (const [role, prompt] of Object.entries(menus)) {
      const menu = await call(people[role as keyof typeof people]);
      assert.equal(menu.callflow[0]!.params!.promptMessage, prompt, role);
    }
    assert.deepEqual((await call(people.restaurant, randomUUID(), '2')).callflow, connectsTo(people.courier));
    await cancel(bookingId);
  });

  it('a repeat with other parties, or other reach, is a conflict; the same request in another order is the booking', async () => {
    const { bookingId, people, request } = await book();
    const repeat = await api(stack, 'POST', '/v1/bookings', {
      ...request,
      parties: [...request.parties].reverse(),
      reach: { courier: ['customer', 'restaurant'], restaurant: ['courier'], customer: ['courier'] },
    });
    assert.equal(repeat.status, 200, JSON.stringify(repeat.body));
    const conflicts = [
      { ...request, parties: request.parties.slice(0, 2), reach: { customer: ['courier'] } },
      { ...request, parties: [...request.parties.slice(0, 2), { role: 'restaurant', number: '+6561238999' }] },
      { ...request, parties: [...request.parties, { role: 'helper', number: '+6561238998' }] },
      { ...request, reach: { ...DELIVERY_REACH, customer: ['courier', 'restaurant'] } },
      // The menu's order is the booking's too.
      { ...request, reach: { ...DELIVERY_REACH, courier: ['restaurant', 'customer'] } },
    ];
    for (const conflict of conflicts) {
      const answer = await api(stack, 'POST', '/v1/bookings', conflict);
      assert.equal(answer.status, 409, JSON.stringify(conflict));
      assert.equal(answer.body.error.code, 'booking_conflict');
    }
    await cancel(bookingId);
    void people;
  });

  it('the booking’s view and events name the roles: who reaches whom, and whom the courier chose', async () => {
    const { bookingId, people, created } = await book();
    assert.deepEqual(created.reach, DELIVERY_REACH);
    assert.deepEqual(
      (created.parties as { role: string }[]).map((party) => party.role),
      ['customer', 'courier', 'restaurant'],
    );
    const sessionId = randomUUID();
    assert.equal(actions(await call(people.courier, sessionId)).join(), 'sayAndCapture');
    assert.deepEqual((await call(people.courier, sessionId, '2')).callflow, connectsTo(people.restaurant));
    // 8x8's first status follows the callee's answer, by when the choice's session is recorded.
    await eventually(
      () => stack.database.collections.callSessions.findOne({ _id: sessionId }),
      (session) => session?.calleeRole === 'restaurant',
    );
    const connected = callStatus({
      sessionId,
      caller: people.courier,
      virtualNumber: VN,
      callStatus: 'CALL_CONNECTED',
    });
    assert.equal((await webhook(stack, '/call-status', connected)).status, 200);
    const summary = sessionSummary({
      sessionId,
      caller: people.courier,
      virtualNumber: VN,
      callee: people.restaurant,
      sessionStatus: 'COMPLETED',
      durationSeconds: 42,
    });
    assert.equal((await webhook(stack, '/session-summary', summary)).status, 200);

    const view = await eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (read) => ((read.body.calls ?? []) as { status: string }[]).some((c) => c.status === 'COMPLETED'),
    );
    assert.deepEqual(validateResponse(document, 'GET', `/v1/bookings/${bookingId}`, 200, view.body), []);
    assert.deepEqual(view.body.reach, DELIVERY_REACH);
    const [record] = view.body.calls as Record<string, unknown>[];
    assert.equal(record!.callerRole, 'courier');
    assert.equal(record!.calleeRole, 'restaurant');

    const events = await eventually(
      async () => receiver.accepted().filter((event) => event.bookingId === bookingId),
      (mine) => mine.some((event) => event.type === 'call.ended'),
    );
    const active = events.find((event) => event.type === 'booking.active')!;
    assert.deepEqual(active.data.parties, [{ role: 'customer' }, { role: 'courier' }, { role: 'restaurant' }]);
    for (const type of ['call.connected', 'call.ended']) {
      const event = events.find((candidate) => candidate.type === type)!;
      assert.deepEqual([event.data.caller, event.data.callee], [{ role: 'courier' }, { role: 'restaurant' }], type);
    }
    await cancel(bookingId);
  });

  it('a late caller reaches the one party the ended booking let them reach; the courier, who had a choice, hears the notice', async () => {
    const { bookingId, people } = await book();
    assert.equal((await cancel(bookingId)).status, 202);
    await stack.temporal.workflow
      .getHandle(bookingWorkflowId(bookingId))
      .result()
      .catch(() => undefined);
    assert.deepEqual((await call(people.customer)).callflow, connectsTo(people.courier));
    assert.deepEqual((await call(people.restaurant)).callflow, connectsTo(people.courier));
    assert.ok(isNotice(await call(people.courier)));
    assert.ok(isNotice(await call(people.courier, randomUUID(), '1')), 'no menu after the booking ended');
    assert.equal(await stack.database.collections.endedPairings.countDocuments({ bookingId }), 2);
  });

  it('a two-party booking is as it always was: no reach in its answer, each party straight to the other', async () => {
    const { customer, courier } = delivery();
    const bookingId = uniqueId('pair');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'customer', number: customer },
        { role: 'courier', number: courier },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal('reach' in created.body, false);
    assert.deepEqual((await call(customer)).callflow, connectsTo(courier));
    assert.deepEqual((await call(courier)).callflow, connectsTo(customer));
    // A key press after a plain call of ours (8x8 follows every action up) only ends the call.
    const followUp = await webhook(
      stack,
      '/call-action',
      digitsEntered(customer, VN, { sessionId: randomUUID(), clientActionId: 'not-a-menu', digits: '1' }),
    );
    assert.deepEqual(followUp.body, { callflow: [{ action: 'hangup' }] });
    await cancel(bookingId);
  });

  it('refuses every bad shape of several parties with a 400 that names the field', async () => {
    const people = delivery();
    const parties = [
      { role: 'customer', number: people.customer },
      { role: 'courier', number: people.courier },
      { role: 'restaurant', number: people.restaurant },
    ];
    const six = [1, 2, 3, 4, 5, 6].map((i) => ({ role: `role${i}`, number: `+659123810${i}` }));
    const cases: [body: Record<string, unknown>, field: string][] = [
      [{ parties: six }, 'parties'],
      [{ parties: parties.slice(0, 1) }, 'parties'],
      [{ parties: [...parties, { role: 'helper', number: people.courier }] }, 'parties.3.number'],
      [{ parties: [...parties, { role: 'courier', number: '+6591238199' }] }, 'parties.3.role'],
      [{ parties, reach: { customer: ['chef'] } }, 'reach.customer.0'],
      [{ parties, reach: { chef: ['courier'] } }, 'reach.chef'],
      [{ parties, reach: { courier: ['courier'] } }, 'reach.courier.0'],
      [{ parties, reach: { courier: ['customer', 'customer'] } }, 'reach.courier.1'],
      [{ parties, reach: { courier: 'customer' } }, 'reach.courier'],
      [{ parties, reach: ['courier'] }, 'reach'],
      [{ parties, numberSelection: 'prefer-sticky' }, 'numberSelection'],
      [{ parties, fallback: 'pin' }, 'fallback'],
    ];
    for (const [body, field] of cases) {
      const answer = await api(stack, 'POST', '/v1/bookings', { bookingId: uniqueId('bad'), ...body });
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.deepEqual(validateResponse(document, 'POST', '/v1/bookings', 400, answer.body), []);
      assert.equal(answer.body.error.code, 'invalid_request');
      assert.match(answer.body.error.message, new RegExp(`^${field.replace(/\./g, '\\.')}: `), JSON.stringify(body));
    }
  });
});

describe('the menu’s follow-up, whatever the store says or fails to say', () => {
  const settings = {
    unknownCallerNotice: 'Sorry, this number cannot connect you.',
    voiceProfile: 'en-US-Neural2-C',
    storeTimeoutMs: 50,
  };
  const people = ['+6591238801', '+6591238802', '+6591238803', '+6591238804', '+6591238805'];
  const roles = ['customer', 'courier', 'restaurant', 'helper', 'manager'];

  it('answers every key press with a valid callflow: the chosen party of the caller’s route, else the notice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          targets: fc.integer({ min: 0, max: 4 }),
          store: fc.constantFrom('answers', 'no route', 'fails', 'hangs'),
          digits: fc.oneof(fc.constant(null), fc.stringMatching(/^[0-9*#]{0,3}$/)),
        }),
        async ({ targets, store, digits }) => {
          const route: Route = {
            bookingId: 'b',
            callerRole: 'caller',
            targets: people.slice(0, targets).map((number, index) => ({ role: roles[index]!, number })),
          };
          const routes = {
            findRoute: (): Promise<Route | null> =>
              store === 'answers'
                ? Promise.resolve(route)
                : store === 'no route'
                  ? Promise.resolve(null)
                  : store === 'fails'
                    ? Promise.reject(new Error('store down'))
                    : new Promise<never>(() => {}),
          };
          const sessions: string[] = [];
          const router = new CallRouter(
            routes,
            { recordSession: async (session) => void sessions.push(session.calleeRole ?? '') },
            settings,
            createLogger({ level: 'silent' }),
          );
          const event = parsedCallAction(
            digitsEntered('+6581110001', VN, { sessionId: randomUUID(), clientActionId: MENU_ACTION_ID, digits }),
          );
          const answer = await router.answer(event);
          assert.deepEqual(validateCallActionAnswer(answer).errors, [], JSON.stringify(answer));
          const chosen = /^[1-9]#?$/.test(digits ?? '') ? route.targets[Number(digits![0]) - 1] : undefined;
          if (store === 'answers' && chosen) {
            assert.deepEqual(answer.callflow, connectsTo(chosen.number));
          } else {
            assert.deepEqual(actions(answer as Callflow), ['say', 'hangup']);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

function parsedCallAction(body: unknown): CallActionEvent {
  const parsed = parseCallAction(body);
  if (!parsed.ok) assert.fail(parsed.error.message);
  return parsed.value;
}
