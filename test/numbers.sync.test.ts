import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { planNumberSync, type PoolNumberStatus, type ReportedNumber } from '../src/domain/numberSync';
import { reportOfListing, reportOfUpdate } from '../src/numbers/numberSync';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import { NumberPool } from '../src/store/numberPool';
import { testDatabaseUri, uniqueId } from '../harness/stack';

function reported(number: string, operationalStatus: string | null, isHealthy: boolean | null = null): ReportedNumber {
  return { number, operationalStatus, isHealthy, countryCode: 'SG', referenceId: null };
}

function pool(entries: Record<string, PoolNumberStatus>) {
  return Object.entries(entries).map(([number, status]) => ({ number, status }));
}

describe('number sync rules (domain)', () => {
  it('a new Active, healthy number joins the pool; a new number that is not usable stays out', () => {
    const plan = planNumberSync([], {
      complete: true,
      numbers: [
        reported('+6560000001', 'Active', true),
        reported('+6560000002', 'Expiring'),
        reported('+6560000003', 'Active', false),
        reported('+6560000004', null),
      ],
    });
    assert.deepEqual(
      plan.additions.map((n) => n.number),
      ['+6560000001'],
    );
    assert.deepEqual(plan.notAdded, [
      { number: '+6560000002', reason: 'Expiring' },
      { number: '+6560000003', reason: 'health check failed' },
      { number: '+6560000004', reason: 'no status' },
    ]);
  });

  it('Expiring, Inactive, Unhealthy and failed-health numbers are disabled; usable again means active again', () => {
    const plan = planNumberSync(
      pool({
        '+6560000001': 'active',
        '+6560000002': 'active',
        '+6560000003': 'active',
        '+6560000004': 'active',
        '+6560000005': 'disabled',
        '+6560000006': 'active',
      }),
      {
        complete: true,
        numbers: [
          reported('+6560000001', 'Expiring'),
          reported('+6560000002', 'Inactive'),
          reported('+6560000003', 'Unhealthy'),
          reported('+6560000004', 'Active', false),
          reported('+6560000005', 'active', true),
          reported('+6560000006', 'Active'),
        ],
      },
    );
    assert.deepEqual(plan.changes, [
      { number: '+6560000001', from: 'active', to: 'disabled', reason: 'Expiring' },
      { number: '+6560000002', from: 'active', to: 'disabled', reason: 'Inactive' },
      { number: '+6560000003', from: 'active', to: 'disabled', reason: 'Unhealthy' },
      { number: '+6560000004', from: 'active', to: 'disabled', reason: 'health check failed' },
      { number: '+6560000005', from: 'disabled', to: 'active', reason: 'Active again' },
    ]);
    assert.equal(plan.unchanged, 1);
  });

  it('an operator’s drain is never undone, whatever 8x8 says', () => {
    const plan = planNumberSync(pool({ '+6560000001': 'draining' }), {
      complete: true,
      numbers: [reported('+6560000001', 'Active', true)],
    });
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.additions, []);
  });

  it('a complete report drains the numbers it does not list; a partial one leaves them alone', () => {
    const state = pool({ '+6560000001': 'active', '+6560000002': 'disabled', '+6560000003': 'active' });
    const numbers = [reported('+6560000003', 'Active')];
    assert.deepEqual(planNumberSync(state, { complete: true, numbers }).changes, [
      { number: '+6560000001', from: 'active', to: 'draining', reason: 'gone from 8x8' },
      { number: '+6560000002', from: 'disabled', to: 'draining', reason: 'gone from 8x8' },
    ]);
    assert.deepEqual(planNumberSync(state, { complete: false, numbers }).changes, []);
  });

  it('a number without a status from 8x8 keeps the status it has', () => {
    const plan = planNumberSync(pool({ '+6560000001': 'active', '+6560000002': 'disabled' }), {
      complete: true,
      numbers: [reported('+6560000001', null, false), reported('+6560000002', '  ')],
    });
    assert.deepEqual(plan.changes, []);
  });
});

describe("reading 8x8's reports", () => {
  it('a number 8x8 gives no country for takes the country of its numbering plan', () => {
    const listed = reportOfListing({
      totalNumbers: 1,
      lastUpdatedAt: null,
      numbers: [
        {
          msisdn: '+6560000001',
          countryCode: null,
          operationalStatus: 'Active',
          referenceId: null,
          numberType: null,
          health: null,
        },
      ],
    });
    assert.equal(listed.numbers[0]?.countryCode, 'SG');
    const updated = reportOfUpdate({
      updateEventType: 'UPDATES',
      virtualNumbers: [{ msisdn: '+14155550123', operationalStatus: 'Active' }],
    });
    assert.equal(updated.numbers[0]?.countryCode, 'US');
  });

  it('a listing or snapshot shorter than its total, or without one, is not complete, so it drains nothing', () => {
    const listing = { totalNumbers: 3, lastUpdatedAt: null, numbers: [] };
    assert.equal(reportOfListing(listing).complete, false);
    assert.equal(reportOfListing({ ...listing, totalNumbers: 0 }).complete, true);
    assert.equal(reportOfListing({ ...listing, totalNumbers: null }).complete, false);
    const snapshot = { updateEventType: 'SNAPSHOT' as const, virtualNumbers: [], totalNumbers: 2 };
    assert.equal(reportOfUpdate(snapshot).complete, false);
    assert.equal(reportOfUpdate({ ...snapshot, totalNumbers: 0 }).complete, true);
    assert.equal(reportOfUpdate({ ...snapshot, totalNumbers: undefined }).complete, false);
    assert.equal(reportOfUpdate({ ...snapshot, updateEventType: 'UPDATES', totalNumbers: 0 }).complete, false);
  });
});

describe('number sync applied to the pool (store)', () => {
  let database: Database;
  let numbers: NumberPool;

  before(async () => {
    database = await connectDatabase(testDatabaseUri(uniqueId('health').replace(/-/g, '_')));
    await ensureIndexes(database);
    numbers = new NumberPool(database.collections);
  });
  beforeEach(() => database.collections.numbers.deleteMany({}));
  after(async () => {
    await database.db.dropDatabase();
    await database.close();
  });

  const statuses = async () =>
    Object.fromEntries((await numbers.list()).map((n) => [n.number, n.status])) as Record<string, string>;

  it('adds, disables, re-activates and drains in one pass, and reports what it did', async () => {
    await numbers.add({ number: '+6560000001', countryCode: 'SG', referenceId: null });
    await numbers.add({ number: '+6560000002', countryCode: 'SG', referenceId: null });
    await numbers.add({ number: '+6560000003', countryCode: 'SG', referenceId: null });
    await numbers.setStatus('+6560000002', 'disabled');

    const result = await numbers.applyNumberReport({
      complete: true,
      numbers: [
        { ...reported('+6560000001', 'Expiring') },
        { ...reported('+6560000002', 'Active', true) },
        { ...reported('+6560000004', 'Active'), referenceId: 'range-1' },
      ],
    });

    assert.deepEqual(result.added, ['+6560000004']);
    assert.deepEqual(
      result.changed.map((c) => [c.number, c.to]),
      [
        ['+6560000001', 'disabled'],
        ['+6560000002', 'active'],
        ['+6560000003', 'draining'],
      ],
    );
    assert.deepEqual(await statuses(), {
      '+6560000001': 'disabled',
      '+6560000002': 'active',
      '+6560000003': 'draining',
      '+6560000004': 'active',
    });
    const added = await numbers.get('+6560000004');
    assert.equal(added?.referenceId, 'range-1');
    assert.equal(added?.countryCode, 'SG');
  });

  it('applying the same report twice changes nothing the second time', async () => {
    const report = {
      complete: true,
      numbers: [reported('+6560000001', 'Active'), reported('+6560000002', 'Inactive')],
    };
    await numbers.add({ number: '+6560000002', countryCode: 'SG', referenceId: null });
    const first = await numbers.applyNumberReport(report);
    assert.equal(first.added.length + first.changed.length, 2);
    const second = await numbers.applyNumberReport(report);
    assert.deepEqual(second.added, []);
    assert.deepEqual(second.changed, []);
    assert.equal(second.unchanged, 2);
  });

  it('a disabled number keeps the booking that holds it: its pairing is untouched', async () => {
    await numbers.add({ number: '+6560000001', countryCode: 'SG', referenceId: null });
    const parties: [{ role: string; number: string }, { role: string; number: string }] = [
      { role: 'rider', number: '+6591000001' },
      { role: 'driver', number: '+6591000002' },
    ];
    await database.collections.leases.insertOne({
      _id: 'ride-1',
      run: 'ride-1-run',
      runStartedAt: new Date(),
      virtualNumber: '+6560000001',
      parties,
      status: 'active',
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    });
    await numbers.applyNumberReport({ complete: true, numbers: [reported('+6560000001', 'Expiring')] });
    const doc = await database.collections.numbers.findOne({ _id: '+6560000001' });
    assert.equal(doc?.status, 'disabled');
    assert.equal((await numbers.get('+6560000001'))?.liveBookings, 1);
    assert.equal(await database.collections.leases.countDocuments({ _id: 'ride-1' }), 1);
  });

  it("an operator's restore brings a drained or disabled number back; the sync judges it again by 8x8's word", async () => {
    await numbers.add({ number: '+6560000001', countryCode: 'SG', referenceId: null });
    await numbers.add({ number: '+6560000002', countryCode: 'SG', referenceId: null });
    await numbers.setStatus('+6560000001', 'draining');
    await numbers.setStatus('+6560000002', 'disabled');

    assert.equal((await numbers.restore('+6560000001'))?.status, 'active');
    assert.equal((await numbers.restore('+6560000002'))?.status, 'active');
    assert.equal((await numbers.restore('+6560000002'))?.status, 'active', 'a repeat changes nothing');
    assert.equal(await numbers.restore('+6560000009'), null);

    // Restored, a number is a pool number like any other: 8x8 saying it is Expiring disables it again.
    await numbers.applyNumberReport({ complete: false, numbers: [reported('+6560000002', 'Expiring')] });
    assert.deepEqual(await statuses(), { '+6560000001': 'active', '+6560000002': 'disabled' });
  });

  it('a number an operator drains between the read and the write stays drained', async () => {
    await numbers.add({ number: '+6560000001', countryCode: 'SG', referenceId: null });
    // The operator's drain lands while a sync that planned "active → disabled" is under way.
    const racing = new NumberPool({
      ...database.collections,
      numbers: new Proxy(database.collections.numbers, {
        get(target, property, receiver) {
          if (property !== 'updateOne') return Reflect.get(target, property, receiver) as unknown;
          return async (...args: Parameters<typeof target.updateOne>) => {
            await numbers.setStatus('+6560000001', 'draining');
            return target.updateOne(...args);
          };
        },
      }),
    });
    const result = await racing.applyNumberReport({ complete: true, numbers: [reported('+6560000001', 'Inactive')] });
    assert.deepEqual(result.skipped, ['+6560000001']);
    assert.equal((await numbers.get('+6560000001'))?.status, 'draining');
  });

  it('a new number that someone else added meanwhile is judged as a pool number, not added twice', async () => {
    const concurrent = new NumberPool({
      ...database.collections,
      numbers: new Proxy(database.collections.numbers, {
        get(target, property, receiver) {
          if (property !== 'insertOne') return Reflect.get(target, property, receiver) as unknown;
          return async (...args: Parameters<typeof target.insertOne>) => {
            await numbers.add({ number: '+6560000001', countryCode: 'SG', referenceId: null });
            await numbers.setStatus('+6560000001', 'disabled');
            return target.insertOne(...args);
          };
        },
      }),
    });
    const result = await concurrent.applyNumberReport({
      complete: false,
      numbers: [reported('+6560000001', 'Active')],
    });
    assert.deepEqual(result.added, []);
    assert.deepEqual(
      result.changed.map((c) => [c.number, c.from, c.to]),
      [['+6560000001', 'disabled', 'active']],
    );
    assert.equal((await numbers.list()).length, 1);
  });
});
