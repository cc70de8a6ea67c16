import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { validateRequestBody, type OpenApiDocument } from '../harness/openapi';
import { api, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

// numberSelection "prefer-sticky" through the booking API, with real Temporal and the real store: a repeat
// customer and courier see the number they had last time; the conflict-free rule is unchanged.

const POOL = ['+6560006001', '+6560006002'];
const CUSTOMER = '+6591006001';
const COURIER = '+6591006002';

describe('a pair of people booked again with prefer-sticky see the number they had last time', () => {
  let stack: Stack;
  let strangers = 0;

  before(async () => {
    stack = await startStack();
    for (const number of POOL) assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
  });
  after(() => stack?.stop());

  async function book(parties: { role: string; number: string }[], extra: Record<string, unknown> = {}) {
    const bookingId = uniqueId('sticky');
    const created = await api(stack, 'POST', '/v1/bookings', { bookingId, parties, ...extra });
    return { bookingId, status: created.status, body: created.body };
  }
  const pair = (first = CUSTOMER, second = COURIER) => [
    { role: 'customer', number: first },
    { role: 'courier', number: second },
  ];
  const sticky = { numberSelection: 'prefer-sticky' };

  async function cancel(bookingId: string) {
    assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`)).status, 202);
    await stack.temporal.workflow.getHandle(`booking-${bookingId}`).result();
  }

  async function loadOf(number: string): Promise<number> {
    const answer = await api(stack, 'GET', '/v1/numbers');
    const listed = (answer.body.numbers as { number: string; liveBookings: number }[]).find((n) => n.number === number);
    assert.ok(listed, `${number} is listed`);
    return listed.liveBookings;
  }

  it('gets the last number back even when it is the busier one, and routes calls on it; spread stays the default', async () => {
    const first = await book(pair(), sticky);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const last = first.body.virtualNumber as string;
    const other = POOL.find((number) => number !== last)!;
    await cancel(first.bookingId);

    // Other people's bookings until the pair's last number is the busier of the two: spread would not choose it.
    for (let i = 0; i < 20 && (await loadOf(last)) <= (await loadOf(other)); i++) {
      strangers += 1;
      const created = await book(pair(`+659200${String(6000 + strangers)}`, `+659300${String(6000 + strangers)}`));
      assert.equal(created.status, 201);
    }
    assert.ok((await loadOf(last)) > (await loadOf(other)), 'the last number is the busier one');

    // The same two people, the roles the other way round.
    const again = await book(
      [
        { role: 'customer', number: COURIER },
        { role: 'courier', number: CUSTOMER },
      ],
      sticky,
    );
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.virtualNumber, last);
    const answer = await webhook(stack, '/call-action', callReceived(CUSTOMER, last));
    assert.deepEqual(answer.body.callflow[0].params, { source: last, destination: COURIER });

    // The customer with someone else, while holding `last` in that booking: the other number, as ever.
    const spread = await book(pair(CUSTOMER, '+6591006003'));
    assert.equal(spread.body.virtualNumber, other);
    await cancel(spread.bookingId);

    // A second booking of the same pair while the first is live: their last number is taken by both, so another.
    const twice = await book(pair(), sticky);
    assert.equal(twice.status, 201, JSON.stringify(twice.body));
    assert.equal(twice.body.virtualNumber, other);
  });

  it('erasing an ended prefer-sticky booking forgets the pair’s last number', async () => {
    const booked = await book(pair('+6591006021', '+6591006022'), sticky);
    assert.equal(booked.status, 201, JSON.stringify(booked.body));
    const pairs = stack.database.collections.pairs;
    assert.equal(await pairs.countDocuments({ bookingId: booked.bookingId }), 1);
    await cancel(booked.bookingId);
    const erased = await api(stack, 'DELETE', `/v1/bookings/${booked.bookingId}/data`);
    assert.equal(erased.status, 202, JSON.stringify(erased.body));
    assert.equal(await pairs.countDocuments({ bookingId: booked.bookingId }), 0);
  });

  it('refuses a numberSelection it does not know with 400 naming the field; the field is documented', async () => {
    const refused = await book(pair('+6591006011', '+6591006012'), { numberSelection: 'sticky' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'invalid_request');
    assert.match(refused.body.error.message, /^numberSelection: /);
    const document = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as OpenApiDocument;
    for (const numberSelection of ['spread', 'prefer-sticky']) {
      const body = { bookingId: 'x', parties: pair(), numberSelection };
      assert.deepEqual(validateRequestBody(document, 'POST', '/v1/bookings', body), []);
    }
    assert.notDeepEqual(
      validateRequestBody(document, 'POST', '/v1/bookings', { bookingId: 'x', parties: pair(), numberSelection: 'x' }),
      [],
    );
  });
});
