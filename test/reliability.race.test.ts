import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient, type Db } from 'mongodb';
import {
  allocated,
  cancelBookings,
  checkAnswers,
  checkLiveBookings,
  createBookings,
  heldNumbers,
  people,
  raceRequests,
  virtualNumbers,
  waitUntilEnded,
  type Send,
} from '../harness/bookingRace';
import { ProcessStack } from '../harness/processStack';
import { setTimeout as sleep } from 'node:timers/promises';

// Bookings raced through the HTTP API of the service as it runs in production: an HTTP server and two worker
// processes allocating at once. (`npm run chaos` runs the same with 2,000 bookings.)

const POOL = virtualNumbers(6, '6100');

describe('bookings raced on real processes: an HTTP server and two workers', () => {
  let stack: ProcessStack;
  let client: MongoClient;
  let db: Db;
  let send: Send;
  const figures: Record<string, number> = {};

  before(async () => {
    stack = await ProcessStack.start({ workers: 2 });
    client = await MongoClient.connect(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
    db = client.db();
    send = (method, route, body) => stack.api(method, route, body);
    for (const number of POOL) assert.equal((await send('POST', '/v1/numbers', { number })).status, 201);
  });
  after(async () => {
    console.log(`reliability (race): ${JSON.stringify(figures)}`);
    await client?.close();
    await stack?.stop();
  });

  async function endAndCheckNothingHeld(bookingIds: string[]) {
    assert.deepEqual(await cancelBookings(send, bookingIds), []);
    assert.deepEqual(await waitUntilEnded(send, bookingIds, 60_000), [], 'bookings that never ended');
    assert.deepEqual(await heldNumbers(send, db), { claims: 0, leases: 0, busyNumbers: 0 });
  }

  it('80 bookings raced over 24 people and 6 numbers: nobody holds a number twice, refusals are true, all numbers come back', async () => {
    const requests = raceRequests(80, people(24, '9200'), { seed: 6, idPrefix: 'race' });
    const attempts = await createBookings(send, requests, 40);
    assert.deepEqual(checkAnswers(attempts), []);
    const { violations, refusals, allocatedCount } = await checkLiveBookings(send, db, attempts, POOL);
    assert.deepEqual(violations, []);
    Object.assign(figures, { raced: requests.length, allocated: allocatedCount, refused: refusals });
    await endAndCheckNothingHeld(requests.map((r) => r.bookingId));
  });

  it('the HTTP server killed by SIGKILL during booking creation: the retried request returns the same booking and number', async () => {
    const requests = raceRequests(12, people(24, '9500'), { seed: 9, idPrefix: 'http-crash' });
    const first = Promise.all(requests.map((request) => send('POST', '/v1/bookings', request)));
    await sleep(60);
    await stack.killHttp();
    const firstAnswers = await first;
    await stack.startHttp();
    const retried = await createBookings(send, requests, 12);
    assert.deepEqual(checkAnswers(retried), []);
    for (const attempt of retried) {
      const id = attempt.request.bookingId;
      const before = firstAnswers[requests.indexOf(attempt.request)]!;
      if (before.status === 201) assert.equal(attempt.virtualNumber, before.body.virtualNumber, id);
      const claims = await db.collection('claims').find({ bookingId: id }).toArray();
      assert.equal(claims.length, allocated(attempt) ? 2 : 0, `${id}: ${JSON.stringify(claims)}`);
      for (const claim of claims)
        assert.equal(claim.virtualNumber, attempt.virtualNumber, `${id} holds a second number`);
      const booking = await send('GET', `/v1/bookings/${id}`);
      assert.equal(booking.body.virtualNumber, attempt.virtualNumber ?? null, id);
    }
    Object.assign(figures, { httpKills: 1, requestsCutByHttpKill: firstAnswers.filter((a) => a.status === 0).length });
    await endAndCheckNothingHeld(requests.map((r) => r.bookingId));
  });
});
