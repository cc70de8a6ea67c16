import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { allocateVirtualNumber, claimPlan, type AllocationOutcome, type Holder } from '../src/domain/allocation';
import {
  BOOKING_DEFAULTS,
  isSameBooking,
  targetsOf,
  type BookingRequest,
  type Parties,
  type Reach,
} from '../src/domain/booking';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import { MongoAllocationStore } from '../src/store/allocationStore';
import { CallRoutes } from '../src/store/callRoutes';
import { NumberPool } from '../src/store/numberPool';
import { testDatabaseUri, uniqueId } from '../harness/stack';
import { assertNoNumberHeldTwice } from '../harness/claimChecks';
import { retriedOnContention } from '../harness/contention';

// Bookings of three to five people on the real store: one virtual number free for all of them, or a refusal that
// is true; one person, one number, one live booking, as for two.

const POOL = ['+6560001001', '+6560001002', '+6560001003', '+6560001004'];
const PEOPLE = ['+6591008001', '+6591008002', '+6591008003', '+6591008004', '+6591008005', '+6591008006'];
const ROLES = ['customer', 'courier', 'restaurant', 'helper', 'manager'];

function runOf(bookingId: string, run = 1): Holder {
  return { bookingId, run: `${bookingId}-run-${run}`, runStartedAt: 1_000 * run };
}

function booking(bookingId: string, numbers: readonly string[], reach?: Reach): BookingRequest {
  return {
    bookingId,
    parties: numbers.map((number, index) => ({ role: ROLES[index]!, number })) as Parties,
    ...(reach ? { reach } : {}),
    ...BOOKING_DEFAULTS,
  };
}

describe('allocation for bookings of several parties', () => {
  let database: Database;
  let store: MongoAllocationStore;
  let routes: CallRoutes;
  let pool: NumberPool;
  let serial = 0;

  before(async () => {
    database = await connectDatabase(testDatabaseUri(uniqueId('parties').replace(/-/g, '_')));
    await ensureIndexes(database);
    routes = new CallRoutes(database.collections);
    pool = new NumberPool(database.collections);
  });
  const reset = async (numbers = POOL) => {
    await Promise.all(Object.values(database.collections).map((collection) => collection.deleteMany({})));
    store = new MongoAllocationStore(database.collections);
    for (const number of numbers) await pool.add({ number, countryCode: 'SG', referenceId: null });
  };
  beforeEach(() => reset());
  after(async () => {
    await database.db.dropDatabase();
    await database.close();
  });

  function allocate(request: BookingRequest): Promise<AllocationOutcome> {
    // Claims of concurrent attempts that did not settle in time: Temporal retries such an attempt; so does the test.
    return retriedOnContention(() => allocateVirtualNumber(request, runOf(request.bookingId), store));
  }

  it('refuses a number one of the three already holds, and finds the one free for all', async () => {
    const [customer, courier, restaurant, other] = PEOPLE as [string, string, string, string];
    // Each of the three holds a different number with someone else: only the fourth is free for all of them.
    for (const [index, person] of [customer, courier, restaurant].entries()) {
      const held = await allocate(booking(`held-${index}`, [person, other]));
      assert.equal(held.outcome, 'allocated');
    }
    const before = await database.collections.claims.find({}).toArray();
    const busy = new Set(before.map((claim) => claim.virtualNumber));
    assert.equal(busy.size, 3, 'the three hold three different numbers');
    const outcome = await allocate(booking('three', [customer, courier, restaurant]));
    assert.ok(outcome.outcome === 'allocated');
    assert.equal(busy.has(outcome.lease.virtualNumber), false);
    assert.deepEqual(
      outcome.lease.parties.map((party) => party.number),
      [customer, courier, restaurant],
    );
    // And with the last free number taken by one of them, a booking of the three again is refused.
    const again = await allocate(booking('three-again', [restaurant, customer, courier]));
    assert.deepEqual(again, { outcome: 'refused', reason: 'no_number_available' });
  });

  it('routes each party of the booking to the parties it may reach, in the order the booking gave', async () => {
    const [customer, courier, restaurant] = PEOPLE as [string, string, string];
    const reach = { customer: ['courier'], restaurant: ['courier'], courier: ['restaurant', 'customer'] };
    const outcome = await allocate(booking('routed', [customer, courier, restaurant], reach));
    assert.ok(outcome.outcome === 'allocated');
    const vn = outcome.lease.virtualNumber;
    const targets = async (caller: string) =>
      (await routes.findRoute(caller, vn))?.targets.map((target) => `${target.role} ${target.number}`);
    assert.deepEqual(await targets(customer), [`courier ${courier}`]);
    assert.deepEqual(await targets(restaurant), [`courier ${courier}`]);
    assert.deepEqual(await targets(courier), [`restaurant ${restaurant}`, `customer ${customer}`]);
  });

  it('a two-party booking without reach stores its claims as it always has', async () => {
    const outcome = await allocate(booking('two', PEOPLE.slice(0, 2)));
    assert.ok(outcome.outcome === 'allocated');
    const claims = await database.collections.claims.find({ bookingId: 'two' }).toArray();
    assert.equal(claims.length, 2);
    for (const claim of claims) assert.equal('targets' in claim, false);
    assert.deepEqual(
      claimPlan(booking('two', PEOPLE.slice(0, 2))).map((planned) => planned.otherParty.number),
      [PEOPLE[1], PEOPLE[0]],
    );
  });

  it('an attempt that crashed part-way through the claims of three is finished by its retry, not doubled', async () => {
    const request = booking('crashed', PEOPLE.slice(0, 3));
    const plan = claimPlan(request);
    // The crash: two of the three claims written on the first number, nothing more.
    for (const planned of plan.slice(0, 2)) {
      await store.claim({ holder: runOf('crashed'), virtualNumber: POOL[0]!, ...planned });
    }
    const outcome = await allocate(request);
    assert.ok(outcome.outcome === 'allocated');
    const claims = await database.collections.claims.find({ bookingId: 'crashed' }).toArray();
    assert.equal(claims.length, 3, 'one claim per party, on one number');
    assert.ok(claims.every((claim) => claim.virtualNumber === outcome.lease.virtualNumber));
    assert.equal((await store.findLease('crashed'))?.virtualNumber, outcome.lease.virtualNumber);
  });

  it('a partial set of claims is another booking’s allocation under way, a complete one holds the number for good', async () => {
    const request = booking('partial', PEOPLE.slice(0, 3));
    const plan = claimPlan(request);
    for (const planned of plan.slice(0, 2)) {
      await store.claim({ holder: runOf('partial'), virtualNumber: POOL[0]!, ...planned });
    }
    const intruder = { role: 'rider', number: PEOPLE[0]! };
    const claimOf = (other: string) =>
      store.claim({
        holder: runOf(`intruder-${serial++}`),
        party: intruder,
        otherParty: { role: 'driver', number: other },
        virtualNumber: POOL[0]!,
      });
    assert.equal(await claimOf(PEOPLE[5]!), 'in_flight');
    await store.claim({ holder: runOf('partial'), virtualNumber: POOL[0]!, ...plan[2]! });
    assert.equal(await claimOf(PEOPLE[5]!), 'held');
  });

  it('never gives one person a number twice, and refuses only when no number is free for all, whatever bookings of two to five people race', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(fc.nat({ max: PEOPLE.length - 1 }), { minLength: 2, maxLength: 5 }), {
          minLength: 3,
          maxLength: 10,
        }),
        async (groups) => {
          await reset(POOL.slice(0, 3));
          const requests = groups.map((group) =>
            booking(
              `race-${serial++}`,
              group.map((index) => PEOPLE[index]!),
            ),
          );
          const outcomes = await Promise.all(requests.map(allocate));
          const claims = await database.collections.claims.find({}).toArray();
          assertNoNumberHeldTwice(claims);
          for (const [index, outcome] of outcomes.entries()) {
            const request = requests[index]!;
            const mine = claims.filter((claim) => claim.bookingId === request.bookingId);
            if (outcome.outcome === 'allocated') {
              assert.deepEqual(
                mine.map((claim) => claim.party).sort(),
                request.parties.map((party) => party.number).sort(),
                `${request.bookingId} holds one claim per party`,
              );
              assert.ok(mine.every((claim) => claim.virtualNumber === outcome.lease.virtualNumber));
              continue;
            }
            // Nothing ends during the round: a refusal was true only if one of its people holds each number.
            assert.equal(mine.length, 0, `${request.bookingId} was refused but holds claims`);
            const people = new Set(request.parties.map((party) => party.number));
            const busy = new Set(claims.filter((claim) => people.has(claim.party)).map((claim) => claim.virtualNumber));
            assert.equal(busy.size, 3, `${request.bookingId} was refused while a number was free for all`);
          }
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe('the same booking, asked again', () => {
  const partiesOf = (size: number) =>
    PEOPLE.slice(0, size).map((number, index) => ({ role: ROLES[index]!, number })) as Parties;
  const reachOf = (parties: Parties, picks: number[][]): Reach =>
    Object.fromEntries(
      parties.map((party, index) => [
        party.role,
        (picks[index] ?? []).map((pick) => parties[pick % parties.length]!.role).filter((role) => role !== party.role),
      ]),
    );
  const shuffled = <T>(items: readonly T[], seed: number) =>
    items
      .map((item, index) => ({ item, key: (index * 7919 + seed * 104729) % 1009 }))
      .sort((a, b) => a.key - b.key)
      .map(({ item }) => item);
  const unique = (roles: string[]) => roles.filter((role, index) => roles.indexOf(role) === index);

  it('is the same whatever order its parties and reach come in, and another for any other party, role or target', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.array(fc.array(fc.nat({ max: 4 }), { maxLength: 4 }), { minLength: 5, maxLength: 5 }),
        fc.nat(),
        (size, picks, seed) => {
          const parties = partiesOf(size);
          const reach = Object.fromEntries(
            Object.entries(reachOf(parties, picks)).map(([role, targets]) => [role, unique(targets)]),
          );
          const request = { parties, reach };
          const reordered = {
            parties: shuffled(parties, seed) as Parties,
            reach: Object.fromEntries(shuffled(Object.entries(reach), seed + 1)),
          };
          assert.ok(isSameBooking(request, reordered));
          const [first, ...rest] = parties;
          assert.ok(
            !isSameBooking(request, { parties: [{ ...first, number: '+6591008999' }, ...rest] as Parties, reach }),
          );
          assert.ok(!isSameBooking(request, { parties: [{ ...first, role: 'someone' }, ...rest] as Parties, reach }));
          const withAll = { ...reach, [first.role]: rest.map((party) => party.role) };
          const withNone = { ...reach, [first.role]: [] };
          const changed = (reach[first.role] ?? []).length === rest.length ? withNone : withAll;
          assert.ok(!isSameBooking(request, { parties, reach: changed }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('without reach, is the same as with a reach that lets everyone reach everyone else in the booking’s order', () => {
    for (const size of [2, 3, 4, 5]) {
      const parties = partiesOf(size);
      const everyone = Object.fromEntries(
        parties.map((party) => [party.role, parties.filter((other) => other !== party).map((other) => other.role)]),
      );
      assert.ok(isSameBooking({ parties }, { parties, reach: everyone }), `${size} parties`);
      assert.deepEqual(
        targetsOf({ parties }, parties[0].role).map((party) => party.role),
        ROLES.slice(1, size),
      );
    }
  });
});
