import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendUntilFinal, type Send } from '../harness/bookingRace';
import { api, eventually, startStack, uniqueId, type Stack } from '../harness/stack';

const PARTIES = Array.from({ length: 12 }, (_, i) => `+659100${String(i).padStart(4, '0')}`);
const NUMBERS = Array.from({ length: 4 }, (_, i) => `+656000${String(3000 + i)}`);
const BOOKINGS = 60;

/** Created by this request, or by an earlier try of it that the platform did not hear the answer of. */
const isAllocated = (attempt: Attempt) => attempt.status === 201 || attempt.status === 200;

interface Attempt {
  bookingId: string;
  parties: [string, string];
  status: number;
  code?: string;
  virtualNumber?: string;
}

describe('many bookings at once over few people and few numbers', () => {
  let stack: Stack;
  const attempts: Attempt[] = [];

  const send: Send = (method, route, body) => api(stack, method, route, body);

  before(async () => {
    stack = await startStack({ workers: 2 });
    for (const number of NUMBERS) assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
    const random = seeded(42);
    const requests = Array.from({ length: BOOKINGS }, () => {
      const first = Math.floor(random() * PARTIES.length);
      const second = (first + 1 + Math.floor(random() * (PARTIES.length - 1))) % PARTIES.length;
      return { bookingId: uniqueId('race'), parties: [PARTIES[first]!, PARTIES[second]!] as [string, string] };
    });
    await Promise.all(
      requests.map(async (request) => {
        // As the platform does: a 503 (overloaded, or Temporal busy) is sent again, with the same bookingId.
        const { answer } = await sendUntilFinal(send, 'POST', '/v1/bookings', {
          bookingId: request.bookingId,
          parties: [
            { role: 'customer', number: request.parties[0] },
            { role: 'courier', number: request.parties[1] },
          ],
        });
        attempts.push({
          ...request,
          status: answer.status,
          code: answer.body.error?.code,
          virtualNumber: answer.body.virtualNumber,
        });
      }),
    );
  });
  after(() => stack.stop());

  it('every request is answered with a number or a true refusal', () => {
    for (const attempt of attempts) {
      assert.ok(
        isAllocated(attempt) || (attempt.status === 409 && attempt.code === 'no_number_available'),
        JSON.stringify(attempt),
      );
    }
    const allocated = attempts.filter(isAllocated).length;
    console.log(
      `concurrency: ${BOOKINGS} bookings over ${PARTIES.length} people and ${NUMBERS.length} numbers: ${allocated} allocated, ${BOOKINGS - allocated} refused`,
    );
    assert.ok(allocated > 0);
  });

  it('no person holds one virtual number in two live bookings, by the answers and by the store', async () => {
    const held = new Map<string, Set<string>>();
    for (const attempt of attempts.filter(isAllocated)) {
      for (const party of attempt.parties) {
        const numbers = held.get(party) ?? new Set<string>();
        assert.ok(
          !numbers.has(attempt.virtualNumber!),
          `${attempt.bookingId}: person already holds ${attempt.virtualNumber}`,
        );
        numbers.add(attempt.virtualNumber!);
        held.set(party, numbers);
      }
    }
    const claims = await stack.database.collections.claims.find({}).toArray();
    assert.equal(claims.length, 2 * attempts.filter(isAllocated).length);
    for (const claim of claims) {
      const attempt = attempts.find((a) => a.bookingId === claim.bookingId);
      assert.equal(attempt?.virtualNumber, claim.virtualNumber);
    }
  });

  it('each booking\u2019s workflow holds the number its answer gave', async () => {
    for (const attempt of attempts.filter(isAllocated)) {
      const booking = await api(stack, 'GET', `/v1/bookings/${attempt.bookingId}`);
      assert.equal(booking.body.status, 'active');
      assert.equal(booking.body.virtualNumber, attempt.virtualNumber);
    }
  });

  it('refusals happened only when the two people held every number between them', () => {
    // Nothing ended while the bookings were made, so what people hold now is a superset of what they held then.
    const heldBy = (party: string) =>
      attempts.filter((a) => isAllocated(a) && a.parties.includes(party)).map((a) => a.virtualNumber!);
    for (const attempt of attempts.filter((a) => a.status === 409)) {
      const busy = new Set([...heldBy(attempt.parties[0]), ...heldBy(attempt.parties[1])]);
      assert.equal(busy.size, NUMBERS.length, `${attempt.bookingId} refused while a number was free for both`);
    }
  });

  it('once every booking ends, every number is free', async () => {
    const cancels = await Promise.all(
      attempts.filter(isAllocated).map(async (a) => ({
        bookingId: a.bookingId,
        ...(await sendUntilFinal(send, 'POST', `/v1/bookings/${a.bookingId}/cancel`, undefined)),
      })),
    );
    for (const { bookingId, answer } of cancels) {
      assert.equal(answer.status, 202, `cancel of ${bookingId}: ${answer.status} ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.status, 'cancelled', bookingId);
    }
    // The answer comes once the booking is cancelled; its number is given back right after, by its workflow.
    const numbers = await eventually(
      () => api(stack, 'GET', '/v1/numbers'),
      (answer) => answer.body.numbers.every((n: { liveBookings: number }) => n.liveBookings === 0),
      60_000,
    ).catch(async (error: unknown) => {
      // What still holds a number, and what its booking says: the failure names the booking that leaked.
      const held = await stack.database.collections.leases.find({ status: { $ne: 'released' } }).toArray();
      const views = await Promise.all(
        held.map(async (lease) => ({
          bookingId: lease._id,
          lease: lease.status,
          booking: (await api(stack, 'GET', `/v1/bookings/${lease._id}`)).body,
        })),
      );
      throw new Error(`${String(error)}\nstill held: ${JSON.stringify(views)}`);
    });
    assert.equal(numbers.body.numbers.length, NUMBERS.length);
    assert.equal(await stack.database.collections.claims.countDocuments({}), 0);
    // What stays of each booking is a marker that it released, without its parties' numbers.
    assert.equal(await stack.database.collections.leases.countDocuments({ status: { $ne: 'released' } }), 0);
  });
});

/** A small deterministic generator, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
