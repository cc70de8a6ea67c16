import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  AllocationContention,
  allocateVirtualNumber as allocateFor,
  pickLeastLoaded,
  preferredCountry,
  type AllocationLimits,
  type AllocationStore,
  type Holder,
} from '../src/domain/allocation';
import { BOOKING_DEFAULTS, type BookingRequest } from '../src/domain/booking';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import { MongoAllocationStore } from '../src/store/allocationStore';
import { CallRoutes } from '../src/store/callRoutes';
import { NumberPool } from '../src/store/numberPool';
import { testDatabaseUri, uniqueId } from '../harness/stack';
import { retriedOnContention } from '../harness/contention';

function booking(
  bookingId: string,
  first: string,
  second: string,
  extra: Partial<BookingRequest> = {},
): BookingRequest {
  return {
    bookingId,
    parties: [
      { role: 'rider', number: first },
      { role: 'driver', number: second },
    ],
    ...BOOKING_DEFAULTS,
    ...extra,
  };
}

/** The run of a booking, as its workflow names it: the first run unless told otherwise. */
function runOf(bookingId: string, run = 1): Holder {
  return { bookingId, run: `${bookingId}-run-${run}`, runStartedAt: 1_000 * run };
}

describe('allocation rules (domain)', () => {
  it('prefers the country of the first party that has one', () => {
    assert.equal(
      preferredCountry([
        { role: 'a', number: '+6591234567' },
        { role: 'b', number: '+14155550123' },
      ]),
      'SG',
    );
    assert.equal(
      preferredCountry([
        { role: 'a', number: '+14155550123' },
        { role: 'b', number: '+6591234567' },
      ]),
      'US',
    );
  });

  it('picks among the least-loaded numbers only, at random', () => {
    const candidates = [
      { number: '+1', liveBookings: 2 },
      { number: '+2', liveBookings: 1 },
      { number: '+3', liveBookings: 1 },
    ];
    assert.equal(pickLeastLoaded(candidates, () => 0)?.number, '+2');
    assert.equal(pickLeastLoaded(candidates, () => 0.99)?.number, '+3');
    assert.equal(
      pickLeastLoaded([], () => 0),
      null,
    );
  });
});

describe('allocation on the store', () => {
  let database: Database;
  let leases: MongoAllocationStore;
  let routes: CallRoutes;
  let pool: NumberPool;

  before(async () => {
    database = await connectDatabase(testDatabaseUri(uniqueId('alloc').replace(/-/g, '_')));
    await ensureIndexes(database);
    leases = new MongoAllocationStore(database.collections);
    routes = new CallRoutes(database.collections);
    pool = new NumberPool(database.collections);
  });
  beforeEach(async () => {
    await Promise.all(Object.values(database.collections).map((collection) => collection.deleteMany({})));
    // A fresh store each time: its in-memory view of the pool must not carry numbers of an earlier test.
    leases = new MongoAllocationStore(database.collections);
  });
  after(async () => {
    await database.db.dropDatabase();
    await database.close();
  });

  /** Allocates for the booking's first run, as its workflow's activity does. */
  function allocateVirtualNumber(
    request: BookingRequest,
    store: AllocationStore,
    random: () => number = Math.random,
    limits: AllocationLimits = {},
  ) {
    return allocateFor(request, runOf(request.bookingId), store, random, limits);
  }

  async function addNumbers(numbers: string[], countryCode: string | null = 'SG') {
    for (const number of numbers) await pool.add({ number, countryCode, referenceId: null });
  }

  it('never gives one person the same virtual number in two live bookings', async () => {
    await addNumbers(['+6560000001', '+6560000002']);
    const a = await allocateVirtualNumber(booking('b1', '+6591000001', '+6591000002'), leases);
    const b = await allocateVirtualNumber(booking('b2', '+6591000001', '+6591000003'), leases);
    assert.equal(a.outcome, 'allocated');
    assert.equal(b.outcome, 'allocated');
    assert.ok(a.outcome === 'allocated' && b.outcome === 'allocated');
    assert.notEqual(a.lease.virtualNumber, b.lease.virtualNumber);
  });

  it('refuses only when every number is held by one of the two parties', async () => {
    await addNumbers(['+6560000001', '+6560000002']);
    await allocateVirtualNumber(booking('b1', '+6591000001', '+6591000002'), leases);
    await allocateVirtualNumber(booking('b2', '+6591000003', '+6591000004'), leases);
    // Both numbers are busy, but not with these two people: the number is shared, never refused.
    const shared = await allocateVirtualNumber(booking('b3', '+6591000005', '+6591000006'), leases);
    assert.equal(shared.outcome, 'allocated');
    // Party 1 holds one number, party 3 the other: nothing is free for both.
    const refused = await allocateVirtualNumber(booking('b4', '+6591000001', '+6591000003'), leases);
    assert.deepEqual(refused, { outcome: 'refused', reason: 'no_number_available' });
  });

  it('spreads bookings over the least-loaded numbers', async () => {
    await addNumbers(['+6560000001', '+6560000002', '+6560000003', '+6560000004']);
    for (let i = 0; i < 12; i++) {
      const outcome = await allocateVirtualNumber(
        booking(`b${i}`, `+659100${String(i).padStart(4, '0')}`, `+659200${String(i).padStart(4, '0')}`),
        leases,
      );
      assert.equal(outcome.outcome, 'allocated');
    }
    const loads = (await pool.list()).map((number) => number.liveBookings);
    assert.deepEqual(loads, [3, 3, 3, 3]);
  });

  it('takes a number of the parties\u2019 country first and falls back to another unless strict', async () => {
    await addNumbers(['+14155550100'], 'US');
    await addNumbers(['+6560000001'], 'SG');
    const local = await allocateVirtualNumber(booking('sg1', '+6591000001', '+6591000002'), leases);
    assert.ok(local.outcome === 'allocated' && local.lease.virtualNumber === '+6560000001');
    await pool.setStatus('+6560000001', 'draining');
    const fallback = await allocateVirtualNumber(booking('sg2', '+6591000003', '+6591000004'), leases);
    assert.ok(fallback.outcome === 'allocated' && fallback.lease.virtualNumber === '+14155550100');
    const strict = await allocateVirtualNumber(
      booking('sg3', '+6591000005', '+6591000006', { geoMatch: 'strict' }),
      leases,
    );
    assert.equal(strict.outcome, 'refused');
  });

  it('a number drained after the pool view was loaded gets no new booking', async () => {
    await addNumbers(['+6560000001', '+6560000002']);
    await allocateVirtualNumber(booking('b0', '+6591000007', '+6591000008'), leases);
    await pool.setStatus('+6560000001', 'draining');
    await pool.setStatus('+6560000002', 'draining');
    assert.equal((await allocateVirtualNumber(booking('b1', '+6591000001', '+6591000002'), leases)).outcome, 'refused');
  });

  it('a number added after the pool view was loaded is found before a refusal', async () => {
    await addNumbers(['+6560000001']);
    await allocateVirtualNumber(booking('b0', '+6591000001', '+6591000002'), leases);
    await addNumbers(['+6560000002']);
    const outcome = await allocateVirtualNumber(booking('b1', '+6591000001', '+6591000003'), leases);
    assert.ok(outcome.outcome === 'allocated' && outcome.lease.virtualNumber === '+6560000002');
  });

  it('gives no new bookings to draining or disabled numbers, which keep routing the bookings that hold them', async () => {
    await addNumbers(['+6560000001']);
    const held = await allocateVirtualNumber(booking('b1', '+6591000001', '+6591000002'), leases);
    assert.equal(held.outcome, 'allocated');
    await pool.setStatus('+6560000001', 'disabled');
    assert.equal((await allocateVirtualNumber(booking('b2', '+6591000003', '+6591000004'), leases)).outcome, 'refused');
    const route = await routes.findRoute('+6591000001', '+6560000001');
    assert.equal(route?.targets[0]?.number, '+6591000002');
  });

  it('a retried allocation returns the same number and counts it once', async () => {
    await addNumbers(['+6560000001', '+6560000002']);
    const request = booking('b1', '+6591000001', '+6591000002');
    const first = await allocateVirtualNumber(request, leases);
    const retry = await allocateVirtualNumber(request, leases);
    assert.deepEqual(retry, first);
    const total = (await pool.list()).reduce((sum, number) => sum + number.liveBookings, 0);
    assert.equal(total, 1);
  });

  it('an attempt that crashed after claiming is finished by its retry, not doubled', async () => {
    await addNumbers(['+6560000001', '+6560000002']);
    const request = booking('b1', '+6591000001', '+6591000002');
    const [first, second] = request.parties;
    // The crash: both claims written, the lease and the count not.
    await leases.claim({ holder: runOf('b1'), party: first, otherParty: second, virtualNumber: '+6560000002' });
    await leases.claim({ holder: runOf('b1'), party: second, otherParty: first, virtualNumber: '+6560000002' });
    const outcome = await allocateVirtualNumber(request, leases);
    assert.ok(outcome.outcome === 'allocated' && outcome.lease.virtualNumber === '+6560000002');
    assert.equal((await pool.get('+6560000002'))?.liveBookings, 1);

    // A crash between the two claims leaves half a pairing, which the retry gives back.
    await leases.claim({
      holder: runOf('b2'),
      party: { role: 'rider', number: '+6591000009' },
      otherParty: second,
      virtualNumber: '+6560000001',
    });
    const resumed = await allocateVirtualNumber(booking('b2', '+6591000009', '+6591000008'), leases);
    assert.equal(resumed.outcome, 'allocated');
    assert.equal(await database.collections.claims.countDocuments({ bookingId: 'b2' }), 2);
  });

  it('does not refuse on the unsettled claim of an interrupted attempt: it fails the attempt, to be retried', async () => {
    await addNumbers(['+6560000001']);
    // Another booking's attempt crashed after claiming the number for this rider (its retry will settle it).
    const rider = { role: 'rider', number: '+6591000001' };
    await leases.claim({
      holder: runOf('crashed'),
      party: rider,
      otherParty: { role: 'driver', number: '+6591000009' },
      virtualNumber: '+6560000001',
    });
    await assert.rejects(
      allocateVirtualNumber(booking('b1', '+6591000001', '+6591000002'), leases, Math.random, { settleWindowMs: 200 }),
      AllocationContention,
    );
    // Once that attempt has given its claim back, the number is free for this booking.
    await leases.unclaim({ holder: runOf('crashed'), party: rider.number, virtualNumber: '+6560000001' });
    const outcome = await allocateVirtualNumber(booking('b1', '+6591000001', '+6591000002'), leases, Math.random, {
      settleWindowMs: 200,
    });
    assert.equal(outcome.outcome, 'allocated');
  });

  it('an attempt past its deadline starts no new claim, leaving the booking to its retry', async () => {
    await addNumbers(['+6560000001']);
    const request = booking('late', '+6591000001', '+6591000002');
    await assert.rejects(
      allocateVirtualNumber(request, leases, Math.random, { claimDeadline: Date.now() - 1 }),
      AllocationContention,
    );
    assert.equal(await database.collections.claims.countDocuments({ bookingId: 'late' }), 0);
  });

  it('release gives the number back completely, and releasing twice changes nothing', async () => {
    await addNumbers(['+6560000001']);
    const outcome = await allocateVirtualNumber(booking('b1', '+6591000001', '+6591000002'), leases);
    assert.ok(outcome.outcome === 'allocated');
    await leases.release(runOf('b1'));
    await leases.release(runOf('b1'));
    assert.equal((await pool.get('+6560000001'))?.liveBookings, 0);
    assert.equal(await database.collections.claims.countDocuments({}), 0);
    // What stays is a marker, without the parties' numbers, against late attempts of that run.
    const marker = await database.collections.leases.findOne({ _id: 'b1' });
    assert.equal(marker?.status, 'released');
    assert.equal(marker?.parties, undefined);
    assert.equal(await routes.findRoute('+6591000001', '+6560000001'), null);
  });

  it('holds under concurrent allocations for the same people', async () => {
    await addNumbers(['+6560000001', '+6560000002', '+6560000003']);
    const parties = ['+6591000001', '+6591000002', '+6591000003'];
    const requests = Array.from({ length: 30 }, (_, i) => booking(`c${i}`, parties[i % 3]!, parties[(i + 1) % 3]!));
    // An attempt that meets claims still in flight past its settle window fails with AllocationContention, and
    // Temporal retries it (the activity's retry policy); so does this test, however slow the machine.
    const allocateRetried = (request: BookingRequest) =>
      retriedOnContention(() => allocateVirtualNumber(request, leases));
    const outcomes = await Promise.all(requests.map(allocateRetried));
    const held = new Map<string, Set<string>>();
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.outcome !== 'allocated') continue;
      for (const party of requests[i]!.parties) {
        const numbers = held.get(party.number) ?? new Set<string>();
        assert.ok(
          !numbers.has(outcome.lease.virtualNumber),
          `${party.number} holds ${outcome.lease.virtualNumber} twice`,
        );
        numbers.add(outcome.lease.virtualNumber);
        held.set(party.number, numbers);
      }
    }
    // No booking ends here, so a refusal was true only if, in the end, its two people hold every number between them.
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.outcome !== 'refused') continue;
      const [first, second] = requests[i]!.parties;
      const busy = new Set([...(held.get(first.number) ?? []), ...(held.get(second.number) ?? [])]);
      assert.equal(busy.size, 3, `booking ${requests[i]!.bookingId} was refused while a number was free for both`);
    }
    assert.ok(outcomes.some((outcome) => outcome.outcome === 'allocated'));
  });
});

/**
 * A collection of the real store whose first call of one method on one document waits until the test lets it go:
 * how the tests below put a late attempt or a retried release at the worst moment.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Matcher = (argument: any) => boolean;

function pausedOnce<T extends object>(collection: T, method: string, matches: Matcher) {
  let reach!: () => void;
  let resume!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const released = new Promise<void>((resolve) => (resume = resolve));
  let paused = false;
  const proxy = new Proxy(collection, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== method || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (!paused && matches(args[0])) {
          paused = true;
          reach();
          await released;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { proxy, reached, resume };
}

describe('allocation and release when runs and attempts overlap', () => {
  let database: Database;
  let pool: NumberPool;
  let routes: CallRoutes;

  before(async () => {
    database = await connectDatabase(testDatabaseUri(uniqueId('overlap').replace(/-/g, '_')));
    await ensureIndexes(database);
    pool = new NumberPool(database.collections);
    routes = new CallRoutes(database.collections);
  });
  beforeEach(async () => {
    await Promise.all(Object.values(database.collections).map((collection) => collection.deleteMany({})));
  });
  after(async () => {
    await database.db.dropDatabase();
    await database.close();
  });

  const rider = { role: 'rider', number: '+6591000001' };
  const driver = { role: 'driver', number: '+6591000002' };
  const request = (bookingId: string, parties = [rider, driver] as [typeof rider, typeof rider]): BookingRequest => ({
    ...BOOKING_DEFAULTS,
    bookingId,
    parties,
  });

  async function addNumbers(numbers: string[]) {
    for (const number of numbers) await pool.add({ number, countryCode: 'SG', referenceId: null });
  }

  it('a bookingId started again with other parties never inherits the earlier run\u2019s pairing', async () => {
    await addNumbers(['+6560000001']);
    const store = new MongoAllocationStore(database.collections);
    const first = await allocateFor(request('again'), runOf('again', 1), store);
    assert.equal(first.outcome, 'allocated');
    // The first run was terminated, so nothing released its pairing; the platform books the id again.
    const customer = { role: 'customer', number: '+6591000003' };
    const courier = { role: 'courier', number: '+6591000004' };
    const second = await allocateFor(request('again', [customer, courier]), runOf('again', 2), store);
    assert.ok(second.outcome === 'allocated');
    assert.deepEqual(second.lease.parties, [customer, courier]);
    assert.equal(
      (await routes.findRoute(customer.number, second.lease.virtualNumber))?.targets[0]?.number,
      courier.number,
    );
    assert.equal(
      await routes.findRoute(rider.number, '+6560000001'),
      null,
      'the earlier run\u2019s caller routes nowhere',
    );
    assert.equal((await store.findLease('again'))?.holder.run, runOf('again', 2).run);
    assert.equal((await pool.get('+6560000001'))?.liveBookings, 1);
  });

  it('an attempt of an earlier run that comes late takes nothing from the later run', async () => {
    await addNumbers(['+6560000001']);
    const store = new MongoAllocationStore(database.collections);
    const later = await allocateFor(request('late-run'), runOf('late-run', 2), store);
    assert.equal(later.outcome, 'allocated');
    await assert.rejects(allocateFor(request('late-run'), runOf('late-run', 1), store), /later run/);
    assert.equal((await store.findLease('late-run'))?.holder.run, runOf('late-run', 2).run);
    assert.equal(await database.collections.claims.countDocuments({ run: runOf('late-run', 2).run }), 2);
  });

  it('a release retried beside a later booking of the same person never deletes that booking\u2019s claim', async () => {
    await addNumbers(['+6560000001']);
    const store = new MongoAllocationStore(database.collections);
    const held = await allocateFor(request('first'), runOf('first'), store);
    assert.equal(held.outcome, 'allocated');
    // One release attempt stalls on the rider's claim; its retry gives everything back meanwhile.
    const claimId = `${rider.number}|+6560000001`;
    const stalled = pausedOnce(database.collections.claims, 'deleteOne', (filter) => filter?._id === claimId);
    const slowStore = new MongoAllocationStore({ ...database.collections, claims: stalled.proxy });
    const slowRelease = slowStore.release(runOf('first'));
    await stalled.reached;
    await store.release(runOf('first'));
    // The rider's next booking takes the number in between.
    const next = await allocateFor(
      request('next', [rider, { role: 'driver', number: '+6591000005' }]),
      runOf('next'),
      store,
    );
    assert.equal(next.outcome, 'allocated');
    stalled.resume();
    await slowRelease;
    assert.equal((await routes.findRoute(rider.number, '+6560000001'))?.bookingId, 'next');
  });

  it('an attempt that timed out and comes back after its retry settled returns the store\u2019s number and leaves no claim behind', async () => {
    await addNumbers(['+6560000001', '+6560000002']);
    // The first attempt stalls between its two claims.
    const stalled = pausedOnce(database.collections.claims, 'insertOne', (doc) => doc?.party === driver.number);
    const lateStore = new MongoAllocationStore({ ...database.collections, claims: stalled.proxy });
    const late = allocateFor(request('timed-out'), runOf('timed-out'), lateStore);
    await stalled.reached;
    const lateNumber = (await database.collections.claims.findOne({ party: rider.number }))!.virtualNumber;
    // Its retry finds half a pairing, gives it back and takes the other number (the first was disabled meanwhile).
    await pool.setStatus(lateNumber, 'disabled');
    const retry = await allocateFor(
      request('timed-out'),
      runOf('timed-out'),
      new MongoAllocationStore(database.collections),
    );
    assert.ok(retry.outcome === 'allocated' && retry.lease.virtualNumber !== lateNumber);
    stalled.resume();
    const lateOutcome = await late;
    assert.ok(lateOutcome.outcome === 'allocated');
    assert.equal(
      lateOutcome.lease.virtualNumber,
      retry.lease.virtualNumber,
      'the late attempt answers what the store holds',
    );
    const claims = await database.collections.claims.find({}).toArray();
    assert.deepEqual(
      claims.map((claim) => claim.virtualNumber),
      [retry.lease.virtualNumber, retry.lease.virtualNumber],
    );
  });

  it('an attempt that comes back after its booking released writes no pairing', async () => {
    await addNumbers(['+6560000001']);
    const stalled = pausedOnce(database.collections.leases, 'updateOne', (filter) => filter?._id === 'given-up');
    const lateStore = new MongoAllocationStore({ ...database.collections, leases: stalled.proxy });
    const late = allocateFor(request('given-up'), runOf('given-up'), lateStore);
    await stalled.reached;
    // Meanwhile the booking gave up on this attempt (timed out, cancelled) and released.
    await new MongoAllocationStore(database.collections).release(runOf('given-up'));
    stalled.resume();
    await late.catch(() => undefined);
    assert.equal(await database.collections.claims.countDocuments({}), 0);
    assert.equal(await routes.findRoute(rider.number, '+6560000001'), null);
    assert.equal((await pool.get('+6560000001'))?.liveBookings, 0);
  });

  it('a booking whose allocation stopped after both claims holds its number for good: the same person is refused at once', async () => {
    await addNumbers(['+6560000001']);
    const store = new MongoAllocationStore(database.collections);
    // The crash: both claims written, nothing after them.
    await store.claim({ holder: runOf('crashed'), party: rider, otherParty: driver, virtualNumber: '+6560000001' });
    await store.claim({ holder: runOf('crashed'), party: driver, otherParty: rider, virtualNumber: '+6560000001' });
    const outcome = await allocateFor(
      request('after-crash', [rider, { role: 'driver', number: '+6591000006' }]),
      runOf('after-crash'),
      store,
      Math.random,
      { settleWindowMs: 200 },
    );
    assert.deepEqual(outcome, { outcome: 'refused', reason: 'no_number_available' });
  });
});

describe('the store work of one allocation, whatever its parties already hold', () => {
  let database: Database;
  let pool: NumberPool;
  let commands: string[] = [];

  before(async () => {
    database = await connectDatabase(testDatabaseUri(uniqueId('alloc_cost').replace(/-/g, '_')), {
      monitorCommands: true,
    });
    await ensureIndexes(database);
    pool = new NumberPool(database.collections);
    database.client.on('commandStarted', (event) =>
      commands.push(`${event.commandName} ${event.command[event.commandName]}`),
    );
  });
  after(async () => {
    await database.db.dropDatabase();
    await database.close();
  });

  /** The store commands of one allocation for the merchant and a new customer. */
  async function commandsOfOneAllocation(store: MongoAllocationStore, bookingId: string, customer: string) {
    commands = [];
    const outcome = await allocateFor(booking(bookingId, MERCHANT, customer), runOf(bookingId), store);
    assert.equal(outcome.outcome, 'allocated');
    return [...commands];
  }
  const MERCHANT = '+6591000000';
  const OPEN_ORDERS = 250;

  it('is as many round trips for a merchant with 250 open orders as with 2, and a handful', async () => {
    for (let i = 0; i < OPEN_ORDERS + 10; i++)
      await pool.add({ number: `+6560${String(100_000 + i)}`, countryCode: 'SG', referenceId: null });
    const store = new MongoAllocationStore(database.collections);
    const customer = (i: number) => `+6598${String(100_000 + i)}`;
    for (let i = 0; i < 2; i++) await allocateFor(booking(`m${i}`, MERCHANT, customer(i)), runOf(`m${i}`), store);
    const withTwo = await commandsOfOneAllocation(store, 'with-two', customer(2));
    for (let i = 3; i < OPEN_ORDERS; i++)
      await allocateFor(booking(`m${i}`, MERCHANT, customer(i)), runOf(`m${i}`), store);
    const withMany = await commandsOfOneAllocation(store, 'with-many', customer(OPEN_ORDERS));
    assert.equal(await database.collections.claims.countDocuments({ party: MERCHANT }), OPEN_ORDERS + 1);
    assert.equal(
      withMany.length,
      withTwo.length,
      `with ${OPEN_ORDERS} open orders: ${withMany.join(', ')}; with 2: ${withTwo.join(', ')}`,
    );
    assert.ok(withMany.length <= 10, `${withMany.length} store commands for one allocation`);
  });
});
