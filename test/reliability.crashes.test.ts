import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient, type Db } from 'mongodb';
import {
  allocated,
  cancelBookings,
  checkAnswers,
  createBookings,
  heldNumbers,
  people,
  raceRequests,
  sendUntilFinal,
  virtualNumbers,
  waitUntilEnded,
  type CreationProgress,
} from '../harness/bookingRace';
import { ProcessStack } from '../harness/processStack';
import { setTimeout as sleep } from 'node:timers/promises';

// Worker processes die by SIGKILL — as in a crash of their machine — during allocation, while bookings hold their
// numbers, and during release, and are started again. The platform retries what was not answered, as it must.
// (`npm run chaos` does the same at random moments, many times over.)

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition()) && Date.now() < deadline) await sleep(10);
}

describe('worker processes killed by SIGKILL and restarted', () => {
  let stack: ProcessStack;
  let client: MongoClient;
  let db: Db;
  const figures: Record<string, number> = {};

  before(async () => {
    stack = await ProcessStack.start({ workers: 2 });
    client = await MongoClient.connect(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
    db = client.db();
    for (const number of virtualNumbers(6, '6200')) {
      assert.equal((await stack.api('POST', '/v1/numbers', { number })).status, 201);
    }
  });
  after(async () => {
    console.log(`reliability (crashes): ${JSON.stringify(figures)}`);
    await client?.close();
    await stack?.stop();
  });

  it('during allocation, while holding and during release: every booking reaches its end and no number stays held', async () => {
    const send = (method: string, route: string, body?: unknown) => stack.api(method, route, body);
    const requests = [
      ...raceRequests(16, people(16, '9300'), { seed: 7, idPrefix: 'crash-hold' }),
      // These expire while the workers are down, and must still end.
      ...raceRequests(4, people(8, '9400'), { seed: 8, idPrefix: 'crash-expire', expiresInSeconds: 2 }),
    ];
    let kills = 0;
    const killAll = async () => {
      await Promise.all([stack.killWorker(0), stack.killWorker(1)]);
      kills += 2;
    };
    const restartAll = () => Promise.all([stack.startWorker(0), stack.startWorker(1)]);

    // During allocation: both workers die once the first claims are made; the platform retries until answered.
    const progress: CreationProgress = { sent: 0, answered: 0 };
    const creating = createBookings(send, requests, 20, progress);
    await until(async () => (await db.collection('claims').countDocuments({})) > 0);
    await killAll();
    figures.allocatingWhenKilled = progress.sent - progress.answered;
    await sleep(500);
    await restartAll();
    const attempts = await creating;
    assert.deepEqual(checkAnswers(attempts), []);
    const live = attempts.filter(allocated).map((a) => a.request.bookingId);

    // While holding: the expiring bookings' timers fire while no worker runs.
    await killAll();
    await sleep(3_000);
    await restartAll();

    // During release: both die once the first cancelled booking has given its number back.
    const holding = await db.collection('leases').countDocuments({});
    const cancelling = cancelBookings(
      send,
      live.filter((id) => id.startsWith('crash-hold')),
    );
    await until(async () => (await db.collection('leases').countDocuments({})) < holding);
    await killAll();
    await sleep(300);
    await restartAll();
    assert.deepEqual(await cancelling, []);

    const bookingIds = requests.map((r) => r.bookingId);
    assert.deepEqual(await waitUntilEnded(send, bookingIds, 60_000), [], 'bookings that never ended');
    assert.deepEqual(await heldNumbers(send, db), { claims: 0, leases: 0, busyNumbers: 0 });
    Object.assign(figures, { workerKills: kills, bookings: requests.length, allocated: live.length });
  });

  it('while no worker runs, a platform that keeps retrying a cancellation is told 503, never 500, and the booking ends once a worker is back', async () => {
    const [request] = raceRequests(1, people(2, '9700'), { seed: 10, idPrefix: 'no-worker' });
    const created = await stack.api('POST', '/v1/bookings', request);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await Promise.all([stack.killWorker(0), stack.killWorker(1)]);
    // Each retry is one more update waiting for the workflow; Temporal caps how many may wait at once.
    const answers = await Promise.all(
      Array.from({ length: 14 }, () => stack.api('POST', `/v1/bookings/${request!.bookingId}/cancel`)),
    );
    assert.deepEqual(
      answers.map((answer) => `${answer.status} ${answer.body?.error?.code}`),
      answers.map(() => '503 temporal_unavailable'),
    );
    await Promise.all([stack.startWorker(0), stack.startWorker(1)]);
    const send = (method: string, route: string, body?: unknown) => stack.api(method, route, body);
    assert.deepEqual(await cancelBookings(send, [request!.bookingId]), []);
    assert.deepEqual(await waitUntilEnded(send, [request!.bookingId], 30_000), []);
  });
  it('while no worker runs, an ended booking is still read in full, and a live one answers 503 until a worker is back', async () => {
    const [ended, live] = raceRequests(2, people(4, '9710'), { seed: 11, idPrefix: 'read-no-worker' });
    const send = (method: string, route: string, body?: unknown) => stack.api(method, route, body);
    for (const request of [ended!, live!]) {
      assert.equal((await stack.api('POST', '/v1/bookings', request)).status, 201);
    }
    assert.deepEqual(await cancelBookings(send, [ended!.bookingId]), []);
    assert.deepEqual(await waitUntilEnded(send, [ended!.bookingId], 30_000), []);
    const whileWorkersRan = await stack.api('GET', `/v1/bookings/${ended!.bookingId}`);

    await Promise.all([stack.killWorker(0), stack.killWorker(1)]);
    try {
      const endedRead = await stack.api('GET', `/v1/bookings/${ended!.bookingId}`);
      assert.equal(endedRead.status, 200, JSON.stringify(endedRead.body));
      assert.deepEqual(endedRead.body, whileWorkersRan.body);
      assert.equal(endedRead.body.status, 'cancelled');
      const liveRead = await stack.api('GET', `/v1/bookings/${live!.bookingId}`);
      assert.equal(`${liveRead.status} ${liveRead.body?.error?.code}`, '503 temporal_unavailable');
    } finally {
      await Promise.all([stack.startWorker(0), stack.startWorker(1)]);
    }
    // The first read may still wait out the killed worker's sticky queue (503): the platform reads again.
    const { answer: liveRead } = await sendUntilFinal(send, 'GET', `/v1/bookings/${live!.bookingId}`, undefined);
    assert.equal(liveRead.status, 200, JSON.stringify(liveRead.body));
    assert.deepEqual(await cancelBookings(send, [live!.bookingId]), []);
  });
});
