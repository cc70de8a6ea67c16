import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, eventually, startStack, uniqueId, type Stack } from '../harness/stack';

// The platform's lists: bookings from Temporal's visibility, the number pool from the store, each a page at a time.

describe('listing bookings and numbers', { timeout: 120_000 }, () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('lists the pool a page at a time, filtered by status and country, each number once', async () => {
    const singapore = Array.from({ length: 7 }, (_, i) => `+656000040${i}`);
    for (const number of [...singapore, '+442079460001']) {
      assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
    }
    assert.equal((await api(stack, 'DELETE', `/v1/numbers/${encodeURIComponent(singapore[6]!)}`)).status, 202);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { body: { numbers: { number: string; status: string }[]; nextCursor: string | null } } = await api(
        stack,
        'GET',
        `/v1/numbers?country=sg&status=active&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.ok(page.body.numbers.length <= 2);
      seen.push(...page.body.numbers.map((n) => n.number));
      assert.ok(page.body.numbers.every((n) => n.status === 'active'));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null);
    assert.deepEqual(seen, singapore.slice(0, 6));
    assert.equal(pages, 3);

    const draining = await api(stack, 'GET', '/v1/numbers?status=draining');
    assert.deepEqual(
      draining.body.numbers.map((n: { number: string }) => n.number),
      [singapore[6]],
    );
    for (const bad of ['limit=0', 'limit=1000', 'status=gone', 'country=SGP', 'cursor=%21%21']) {
      const answer = await api(stack, 'GET', `/v1/numbers?${bad}`);
      assert.equal(answer.status, 400, bad);
      assert.equal(answer.body.error.code, 'invalid_request');
    }
  });

  it('lists bookings newest first, filtered by status, virtual number, party role and creation time, a page at a time', async () => {
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number: '+6560000499' })).status, 201);
    const createdFrom = new Date(Date.now() - 1000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const bookingId = uniqueId('listed');
      const created = await api(stack, 'POST', '/v1/bookings', {
        bookingId,
        parties: [
          { role: 'rider', number: `+659200000${i}` },
          { role: 'driver', number: `+659300000${i}` },
        ],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      ids.push(bookingId);
    }
    assert.equal((await api(stack, 'POST', `/v1/bookings/${ids[0]}/cancel`)).status, 202);

    const listed = (query: string) => api(stack, 'GET', `/v1/bookings?createdFrom=${createdFrom}&${query}`);
    const active = await eventually(
      () => listed('status=active'),
      (answer) => answer.body.bookings.length === 2,
    );
    assert.deepEqual(
      active.body.bookings.map((booking: { bookingId: string }) => booking.bookingId),
      [ids[2], ids[1]],
      'newest first',
    );
    assert.ok(active.body.bookings.every((booking: object) => !JSON.stringify(booking).includes('+659')));
    await eventually(
      () => listed('status=cancelled'),
      (answer) => answer.body.bookings.length === 1 && answer.body.bookings[0].bookingId === ids[0],
    );

    const first = await listed('limit=2');
    assert.equal(first.body.bookings.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await listed(`limit=2&cursor=${first.body.nextCursor}`);
    const all = [...first.body.bookings, ...second.body.bookings].map((b: { bookingId: string }) => b.bookingId);
    assert.deepEqual(all.sort(), [...ids].sort());

    const vn = active.body.bookings[0].virtualNumber;
    const byNumber = await listed(`virtualNumber=${encodeURIComponent(vn)}`);
    assert.ok(byNumber.body.bookings.every((booking: { virtualNumber: string }) => booking.virtualNumber === vn));
    const byRole = await eventually(
      () => listed('partyRole=driver'),
      (answer) => answer.body.bookings.length === 3,
    );
    assert.deepEqual(byRole.body.bookings.map((b: { bookingId: string }) => b.bookingId).sort(), [...ids].sort());
    assert.deepEqual((await listed('partyRole=courier')).body.bookings, []);
    const later = await api(stack, 'GET', `/v1/bookings?createdFrom=${new Date(Date.now() + 60_000).toISOString()}`);
    assert.deepEqual(later.body.bookings, []);
    for (const bad of [
      'status=lost',
      'virtualNumber=12',
      'createdFrom=yesterday',
      'limit=-1',
      'cursor=%3D',
      'partyRole=',
    ]) {
      const answer = await api(stack, 'GET', `/v1/bookings?${bad}`);
      assert.equal(answer.status, 400, bad);
    }
  });
});
