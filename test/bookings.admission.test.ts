import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_KEY, api, startStack, uniqueId, type Stack } from '../harness/stack';
import { RefusalSummary } from '../src/http/requestLog';
import { Admission, Overloaded } from '../src/bookings/admission';

/** Work that finishes when told, and counts how many ran at once. */
function gatedWork() {
  let running = 0;
  let most = 0;
  let started = 0;
  const gates: (() => void)[] = [];
  const work = () =>
    new Promise<string>((resolve) => {
      started += 1;
      running += 1;
      most = Math.max(most, running);
      gates.push(() => {
        running -= 1;
        resolve('done');
      });
    });
  return {
    work,
    finishOne: () => gates.shift()?.(),
    get most() {
      return most;
    },
    get started() {
      return started;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('admission of booking creations', () => {
  it('runs at most its limit at once; the next waits, and starts when one finishes', async () => {
    const admission = new Admission({ inFlight: 2, queued: 5, queueWaitMs: 10_000 });
    const gated = gatedWork();
    const calls = ['a', 'b', 'c'].map((key) => admission.run(key, gated.work));
    await tick();
    assert.equal(gated.started, 2);
    assert.deepEqual(admission.load, { running: 2, waiting: 1, limit: 2 });
    gated.finishOne();
    await tick();
    await tick();
    assert.equal(gated.started, 3);
    gated.finishOne();
    gated.finishOne();
    assert.deepEqual(
      (await Promise.all(calls)).map((outcome) => outcome.joined),
      [false, false, false],
    );
    assert.equal(gated.most, 2);
  });

  it('refuses at once past its queue, and after its wait a creation still waiting', async () => {
    const admission = new Admission({ inFlight: 1, queued: 1, queueWaitMs: 50 });
    const gated = gatedWork();
    const first = admission.run('a', gated.work);
    const waiting = admission.run('b', gated.work);
    await assert.rejects(admission.run('c', gated.work), Overloaded);
    await assert.rejects(waiting, (error: unknown) => error instanceof Overloaded && error.retryAfterSeconds === 1);
    assert.equal(gated.started, 1, 'neither refused creation ran');
    gated.finishOne();
    await first;
    assert.deepEqual(admission.load, { running: 0, waiting: 0, limit: 1 });
  });

  it('lets a repeat of a booking under way join it rather than run it twice', async () => {
    const admission = new Admission({ inFlight: 1, queued: 0, queueWaitMs: 50 });
    const gated = gatedWork();
    const first = admission.run('ride-1', gated.work);
    const repeat = admission.run('ride-1', gated.work);
    await tick();
    gated.finishOne();
    assert.deepEqual(await first, { value: 'done', joined: false });
    assert.deepEqual(await repeat, { value: 'done', joined: true });
    assert.equal(gated.started, 1);
  });

  it('drops a waiting creation whose caller has gone, before it starts', async () => {
    const admission = new Admission({ inFlight: 1, queued: 5, queueWaitMs: 10_000 });
    const gated = gatedWork();
    const first = admission.run('a', gated.work);
    const caller = new AbortController();
    const gone = admission.run('b', gated.work, caller.signal);
    caller.abort(new Error('client closed the connection'));
    await assert.rejects(gone, /client closed/);
    gated.finishOne();
    await first;
    assert.equal(gated.started, 1);
    assert.deepEqual(admission.load, { running: 0, waiting: 0, limit: 1 });
  });

  it('lets fewer in at once while creations are slow, and refuses the rest within its wait', async () => {
    let now = 0;
    const limits: number[] = [];
    const admission = new Admission(
      { inFlight: 8, queued: 0, queueWaitMs: 50, latencyTargetMs: 1_000, minInFlight: 2 },
      { now: () => now, onLimit: (limit) => limits.push(limit) },
    );
    const gated = gatedWork();
    const slow = Array.from({ length: 8 }, (_, i) => admission.run(`slow-${i}`, gated.work));
    await tick();
    assert.equal(gated.started, 8);
    // More is asked than runs: a ninth is refused.
    await assert.rejects(admission.run('ninth', gated.work), Overloaded);
    now += 3_000; // every one of them takes 3 s, three times the target
    for (let i = 0; i < 8; i++) gated.finishOne();
    await Promise.all(slow);
    assert.equal(admission.load.limit, 6, 'cut by a quarter once for the span in which they ended');

    now += 1_500;
    const next = Array.from({ length: 6 }, (_, i) => admission.run(`next-${i}`, gated.work));
    await tick();
    assert.equal(gated.started, 14);
    const refused = admission.run('one-too-many', gated.work);
    await assert.rejects(refused, Overloaded);
    now += 3_000;
    for (let i = 0; i < 6; i++) gated.finishOne();
    await Promise.all(next);
    assert.equal(admission.load.limit, 4);
    assert.deepEqual(limits, [6, 4]);
  });

  it('never goes below its floor, and grows back to its limit when creations are fast again', async () => {
    let now = 0;
    const admission = new Admission(
      { inFlight: 8, queued: 0, queueWaitMs: 50, latencyTargetMs: 1_000, minInFlight: 3 },
      { now: () => now },
    );
    const slowOne = async () => {
      now += 5_000;
      return 'slow';
    };
    for (let i = 0; i < 16; i++) await admission.run(`slow-${i}`, slowOne);
    assert.equal(admission.load.limit, 3);
    for (let i = 0; i < 40; i++) await admission.run(`fast-${i}`, async () => 'fast');
    assert.equal(admission.load.limit, 8);
    const gated = gatedWork();
    const calls = Array.from({ length: 8 }, (_, i) => admission.run(`again-${i}`, gated.work));
    await tick();
    assert.equal(gated.started, 8, 'eight at once again');
    for (let i = 0; i < 8; i++) gated.finishOne();
    await Promise.all(calls);
  });

  it('when none waits, slow creations do not cut it below what runs: that would only refuse them', async () => {
    let now = 0;
    const admission = new Admission(
      { inFlight: 32, queued: 0, queueWaitMs: 50, latencyTargetMs: 1_000, minInFlight: 4 },
      { now: () => now },
    );
    const gated = gatedWork();
    const limits: number[] = [];
    for (let round = 0; round < 3; round++) {
      // 20 clients, each with one creation at a time, every creation slower than the target (a cold start).
      const calls = Array.from({ length: 20 }, (_, i) => admission.run(`cold-${round}-${i}`, gated.work));
      await tick();
      now += 3_000;
      for (let i = 0; i < 20; i++) gated.finishOne();
      await Promise.all(calls);
      limits.push(admission.load.limit);
    }
    assert.deepEqual(limits, [24, 20, 20], 'cut by a quarter, then held at the 20 that ran');
  });

  it('keeps its limit when a few creations are slow among many fast ones', async () => {
    let now = 0;
    const admission = new Admission(
      { inFlight: 8, queued: 0, queueWaitMs: 50, latencyTargetMs: 1_000, minInFlight: 2 },
      { now: () => now },
    );
    // Over 30 s, one creation in three takes 5 s (a store pause, a collection); the others 100 ms.
    for (let i = 0; i < 90; i++) {
      await admission.run(`mixed-${i}`, async () => {
        now += i % 3 === 0 ? 5_000 : 100;
      });
    }
    assert.equal(admission.load.limit, 8);
  });

  it('with no latency target keeps its limit however slow creations are', async () => {
    let now = 0;
    const admission = new Admission({ inFlight: 4, queued: 0, queueWaitMs: 50 }, { now: () => now });
    for (let i = 0; i < 10; i++) {
      await admission.run(`slow-${i}`, async () => {
        now += 60_000;
      });
    }
    assert.equal(admission.load.limit, 4);
  });

  it('frees the slot of a creation that failed', async () => {
    const admission = new Admission({ inFlight: 1, queued: 5, queueWaitMs: 10_000 });
    await assert.rejects(
      admission.run('a', () => Promise.reject(new Error('Temporal said no'))),
      /said no/,
    );
    assert.deepEqual(await admission.run('b', () => Promise.resolve(1)), { value: 1, joined: false });
  });
});

describe('the refusals at capacity in the logs', () => {
  it('the first is told at once, then one line per interval sums the rest, none left out', async () => {
    const lines: { refused: number }[] = [];
    let clock = 0;
    const summary = new RefusalSummary(
      { warn: ((fields: { refused: number }) => void lines.push(fields)) as never },
      40,
      () => clock,
    );
    summary.count('/v1/bookings');
    assert.deepEqual(
      lines.map((line) => line.refused),
      [1],
    );
    for (let i = 0; i < 5; i++) summary.count('/v1/bookings');
    assert.equal(lines.length, 1, 'no second line within the interval');
    clock = 40;
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(
      lines.map((line) => line.refused),
      [1, 5],
    );
  });
});

describe('a burst of booking creations past what the server takes', () => {
  const BURST = 24;
  const NUMBERS = Array.from({ length: BURST }, (_, i) => `+656000${String(5000 + i)}`);
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      env: { MASKLINE_CREATIONS_IN_FLIGHT: '2', MASKLINE_CREATIONS_QUEUED: '2', MASKLINE_CREATION_QUEUE_WAIT_MS: '0' },
    });
    for (const number of NUMBERS) assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
  });
  after(() => stack.stop());

  const request = (i: number) => ({
    bookingId: uniqueId(`burst-${i}`),
    parties: [
      { role: 'customer', number: `+659200${String(i).padStart(4, '0')}` },
      { role: 'courier', number: `+659300${String(i).padStart(4, '0')}` },
    ],
  });
  const post = (body: unknown) =>
    fetch(`${stack.baseUrl}/v1/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body),
    });

  it('refuses the excess with 503 overloaded and Retry-After, starts nothing for it, and takes it when retried', async () => {
    const requests = Array.from({ length: BURST }, (_, i) => request(i));
    const answers = await Promise.all(
      requests.map(async (body) => {
        const response = await post(body);
        const answer = (await response.json()) as { error?: { code: string } };
        return {
          body,
          status: response.status,
          code: answer.error?.code,
          retryAfter: response.headers.get('retry-after'),
        };
      }),
    );
    const refused = answers.filter((answer) => answer.status === 503);
    assert.ok(refused.length > 0, 'a burst of 24 past 2 running and 2 waiting is partly refused');
    assert.ok(answers.every((answer) => answer.status === 201 || answer.status === 503));
    for (const answer of refused) {
      assert.equal(answer.code, 'overloaded');
      assert.equal(answer.retryAfter, '1');
      // Nothing was started for a refused creation: no booking, no number held.
      assert.equal((await api(stack, 'GET', `/v1/bookings/${answer.body.bookingId}`)).status, 404);
    }
    const held = await stack.database.collections.leases.countDocuments({ status: { $ne: 'released' } });
    assert.equal(held, BURST - refused.length);

    // The logs sum the refusals up rather than write a line for each: past capacity a line per refusal was a
    // tenth of the server's CPU. The first one is told at once.
    const lines = stack.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(
      lines.filter((line) => line.msg === 'request' && line.status === 503 && line.path === '/v1/bookings').length,
      0,
      'no access-log line per refusal',
    );
    const summaries = lines.filter((line) => line.msg === 'requests refused: the server is at capacity');
    assert.ok(summaries.length >= 1 && summaries.every((line) => Number(line.refused) >= 1), JSON.stringify(summaries));

    // The platform's retry, one at a time, is taken.
    for (const answer of refused) assert.equal((await post(answer.body)).status, 201);
    assert.equal(await stack.database.collections.leases.countDocuments({ status: { $ne: 'released' } }), BURST);
  });
});
