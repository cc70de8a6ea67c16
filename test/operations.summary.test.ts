import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Histogram, Counter, Registry } from 'prom-client';
import { CallMetricsReader, quantile } from '../src/operations/callMetrics';
import { OperationsSummaryService, type OperationsSummary } from '../src/operations/operationsSummary';
import { poolHeadroom } from '../src/operations/poolSummary';
import { CallRecords } from '../src/store/callRecords';
import { OperationsView } from '../src/store/operationsView';
import { api, eventually, startStack, uniqueId, type Stack } from '../harness/stack';

const RIDER = '+6591236001';
const DRIVERS = ['+6598766001', '+6598766002', '+6598766003'];
const SG = ['+6560006001', '+6560006002', '+6560006003'];
const MY = '+60321236001';

describe('the operations summary', () => {
  let stack: Stack;
  let summary: OperationsSummary;

  before(async () => {
    stack = await startStack();
    for (const number of [...SG, MY]) assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
    assert.equal((await api(stack, 'DELETE', `/v1/numbers/${encodeURIComponent(SG[2]!)}`)).status, 202);
    // The rider takes both allocatable SG numbers; a third booking of theirs, strict about the country, is refused.
    for (const driver of DRIVERS.slice(0, 2)) {
      const parties = [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: driver },
      ];
      const created = await api(stack, 'POST', '/v1/bookings', { bookingId: uniqueId('summary'), parties });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const refused = await api(stack, 'POST', '/v1/bookings', {
      bookingId: uniqueId('summary-refused'),
      geoMatch: 'strict',
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: DRIVERS[2] },
      ],
    });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    await new CallRecords(stack.database.collections).storeEvent({
      _id: uniqueId('event'),
      kind: 'status',
      sessionId: uniqueId('session'),
      bookingId: null,
      detail: {},
    });
    // Visibility is eventually consistent: wait until it has the creations and the refusal.
    summary = await eventually(
      async () => (await api(stack, 'GET', '/v1/operations/summary')).body as OperationsSummary,
      (s) =>
        s.bookings.refusedLastHour === 1 &&
        (s.bookings.createdPerMinute ?? []).reduce((sum, minute) => sum + minute.count, 0) === 2,
      30_000,
    );
  });
  after(() => stack.stop());

  it('shows per country the free, held and unavailable numbers and the people who hold all of a country', () => {
    assert.deepEqual(summary.pool.countries, [
      { country: 'MY', free: 1, held: 0, unavailable: 0, liveBookings: 0, partiesAtCapacity: 0, busiestPartyRoom: 1 },
      { country: 'SG', free: 0, held: 2, unavailable: 1, liveBookings: 2, partiesAtCapacity: 1, busiestPartyRoom: 0 },
    ]);
  });

  it('counts live bookings, creations per minute over 15 minutes, refusals and pending call events', () => {
    assert.equal(summary.bookings.active, 2);
    assert.equal(summary.bookings.completing, 0);
    assert.equal(summary.bookings.createdPerMinute?.length, 15);
    assert.equal(summary.bookings.refusedLastHour, 1);
    assert.equal(summary.callEvents.pending, 1);
    assert.equal(summary.numberSync?.lastSuccessAt, null, 'no sync ran on this task queue');
    assert.equal(summary.callActions.budgetSeconds, 5);
    assert.equal(summary.callActions.storeTimeoutSeconds, stack.config.callActionStoreTimeoutMs / 1000);
  });

  it('names no phone number', () => {
    const text = JSON.stringify(summary);
    for (const number of [RIDER, ...DRIVERS, ...SG, MY]) assert.ok(!text.includes(number.slice(3)), number);
  });

  it('is refused without the API key', async () => {
    const refused = await api(stack, 'GET', '/v1/operations/summary', undefined, '');
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, 'unauthorized');
  });

  it("takes the call-action p95 and notice rate from the registry's metrics, and says unknown without them", async () => {
    const registry = new Registry();
    const service = (maxAgeMs: number) =>
      new OperationsSummaryService({
        view: new OperationsView(stack.database.collections),
        temporal: stack.temporal,
        taskQueue: stack.config.temporalTaskQueue,
        storeTimeoutMs: 1500,
        registry,
        maxAgeMs,
      });
    const without = await service(0).summary();
    assert.equal(without.callActions.p95Seconds, null);
    assert.equal(without.callActions.noticeRate, null);
    assert.equal(without.callActions.outcomes, null);

    const duration = new Histogram({
      name: 'maskline_call_action_duration_seconds',
      help: 'call-action answer time',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    });
    const actions = new Counter({
      name: 'maskline_call_actions_total',
      help: 'call actions',
      labelNames: ['outcome'],
      registers: [registry],
    });
    for (let i = 0; i < 90; i++) duration.observe({ outcome: 'connected' }, 0.004);
    for (let i = 0; i < 10; i++) duration.observe({ outcome: 'notice' }, 0.04);
    actions.inc({ outcome: 'connected' }, 90);
    actions.inc({ outcome: 'notice' }, 8);
    actions.inc({ outcome: 'store_timeout' }, 2);
    const withMetrics = await service(0).summary();
    // 95 of 100 calls: half way into the (0.025, 0.05] bucket, which holds the 10 slow ones.
    assert.ok(
      Math.abs((withMetrics.callActions.p95Seconds ?? 0) - 0.0375) < 1e-9,
      `${withMetrics.callActions.p95Seconds}`,
    );
    assert.equal(withMetrics.callActions.noticeRate, 0.1);
    assert.deepEqual(withMetrics.callActions.outcomes, { connected: 90, notice: 8, store_timeout: 2 });
  });

  it('computes the summary once for any number of readers within its age', async () => {
    let reads = 0;
    const view = new OperationsView(stack.database.collections);
    const counted = Object.assign(Object.create(view) as OperationsView, {
      poolNumbers: () => {
        reads += 1;
        return view.poolNumbers();
      },
    });
    const service = new OperationsSummaryService({
      view: counted,
      temporal: stack.temporal,
      taskQueue: stack.config.temporalTaskQueue,
      storeTimeoutMs: 1500,
      maxAgeMs: 60_000,
    });
    const answers = await Promise.all(Array.from({ length: 20 }, () => service.summary()));
    assert.equal(reads, 1);
    assert.ok(answers.every((answer) => answer === answers[0]));
  });
});

describe('the call-action figures', () => {
  it('count only the calls since the oldest reading of the window', async () => {
    const registry = new Registry();
    const duration = new Histogram({
      name: 'maskline_call_action_duration_seconds',
      help: 'h',
      buckets: [0.01, 0.1, 1],
      registers: [registry],
    });
    const reader = new CallMetricsReader(registry, 60_000);
    for (let i = 0; i < 100; i++) duration.observe(0.5);
    assert.ok(((await reader.read(0)).p95Seconds ?? 0) > 0.1);
    for (let i = 0; i < 100; i++) duration.observe(0.005);
    // Against the reading at 0, only the fast calls happened since.
    const recent = await reader.read(30_000);
    assert.ok((recent.p95Seconds ?? 1) <= 0.01, `${recent.p95Seconds}`);
    assert.equal(recent.windowSeconds, 30);
  });

  it('interpolate the quantile within its bucket, and say null for no calls', () => {
    assert.equal(
      quantile(
        0.5,
        new Map([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
      null,
    );
    assert.equal(
      quantile(
        0.5,
        new Map([
          [1, 10],
          [2, 20],
          [Infinity, 20],
        ]),
      ),
      1,
    );
    assert.equal(
      quantile(
        0.75,
        new Map([
          [1, 10],
          [2, 20],
          [Infinity, 20],
        ]),
      ),
      1.5,
    );
    assert.equal(
      quantile(
        0.99,
        new Map([
          [1, 10],
          [Infinity, 20],
        ]),
      ),
      1,
      'past the last bound: that bound',
    );
  });
});

describe('pool headroom', () => {
  it('counts a person at capacity when they hold every allocatable number of the country, whatever the others', () => {
    const numbers = [
      { number: '+6560000001', countryCode: 'SG', status: 'active' as const },
      { number: '+6560000002', countryCode: 'SG', status: 'active' as const },
      { number: '+6560000003', countryCode: 'SG', status: 'disabled' as const },
    ];
    const lease = (virtualNumber: string, parties: string[]) => ({ virtualNumber, status: 'active' as const, parties });
    const [sg] = poolHeadroom(numbers, [
      lease('+6560000001', ['+6591230001', '+6591230002']),
      lease('+6560000002', ['+6591230001', '+6591230003']),
      lease('+6560000003', ['+6591230004', '+6591230005']),
    ]);
    assert.deepEqual(sg, {
      country: 'SG',
      free: 0,
      held: 2,
      unavailable: 1,
      liveBookings: 3,
      partiesAtCapacity: 1,
      busiestPartyRoom: 0,
    });
  });
});
