import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { allocateVirtualNumber, type AllocationOutcome, type Holder } from '../src/domain/allocation';
import { BOOKING_DEFAULTS, type BookingRequest } from '../src/domain/booking';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import { MongoAllocationStore } from '../src/store/allocationStore';
import { NumberPool } from '../src/store/numberPool';
import { createHash, randomBytes } from 'node:crypto';
import { testDatabaseUri, uniqueId } from '../harness/stack';
import { assertNoNumberHeldTwice } from '../harness/claimChecks';
import { retriedOnContention } from '../harness/contention';

// numberSelection "prefer-sticky": a pair's last number is tried first (one read by key), and the conflict-free
// and complete rules of allocation hold as for any booking.

function booking(bookingId: string, first: string, second: string, sticky = true): BookingRequest {
  return {
    bookingId,
    parties: [
      { role: 'customer', number: first },
      { role: 'courier', number: second },
    ],
    ...BOOKING_DEFAULTS,
    ...(sticky ? { numberSelection: 'prefer-sticky' as const } : {}),
  };
}

const runOf = (bookingId: string): Holder => ({ bookingId, run: `${bookingId}-run-1`, runStartedAt: 1_000 });

describe('prefer-sticky allocation on the store', () => {
  let database: Database;
  let store: MongoAllocationStore;
  let pool: NumberPool;
  let bookings = 0;

  before(async () => {
    database = await connectDatabase(testDatabaseUri(uniqueId('sticky').replace(/-/g, '_')), { monitorCommands: true });
    await ensureIndexes(database);
    pool = new NumberPool(database.collections);
  });
  beforeEach(async () => {
    await Promise.all(Object.values(database.collections).map((collection) => collection.deleteMany({})));
    store = new MongoAllocationStore(database.collections);
  });
  after(async () => {
    await database.db.dropDatabase();
    await database.close();
  });

  async function addNumbers(count: number) {
    const numbers = Array.from({ length: count }, (_, i) => `+656000${String(7001 + i)}`);
    for (const number of numbers) await pool.add({ number, countryCode: 'SG', referenceId: null });
    return numbers;
  }

  function allocate(request: BookingRequest): Promise<AllocationOutcome> {
    // Temporal retries such an attempt; so does the test.
    return retriedOnContention(() => allocateVirtualNumber(request, runOf(request.bookingId), store));
  }

  async function book(first: string, second: string, sticky = true) {
    const request = booking(`b${++bookings}`, first, second, sticky);
    const outcome = await allocate(request);
    assert.equal(outcome.outcome, 'allocated');
    return { request, virtualNumber: outcome.outcome === 'allocated' ? outcome.lease.virtualNumber : '' };
  }

  const release = (bookingId: string) => store.release(runOf(bookingId));

  /** A booking of `first` and `second` that holds `virtualNumber`, whatever spread would have chosen. */
  async function holdOn(virtualNumber: string, first: string, second: string) {
    const request = booking(`held${++bookings}`, first, second, false);
    const holder = runOf(request.bookingId);
    const [a, b] = request.parties;
    assert.equal(await store.claim({ holder, party: a, otherParty: b, virtualNumber }), 'claimed');
    assert.equal(await store.claim({ holder, party: b, otherParty: a, virtualNumber }), 'claimed');
    await store.recordLease({ bookingId: request.bookingId, virtualNumber, parties: request.parties }, holder, request);
  }

  it('a pair booked again gets the number they had last time, though it is the busiest of the pool', async () => {
    await addNumbers(4);
    const first = await book('+6591007001', '+6591007002');
    await release(first.request.bookingId);
    for (let i = 0; i < 3; i++) await holdOn(first.virtualNumber, `+659200700${i}`, `+659300700${i}`);
    // The same two people, in either order of roles.
    const again = await book('+6591007002', '+6591007001');
    assert.equal(again.virtualNumber, first.virtualNumber);
  });

  it('a pair whose last number one of them now holds in another booking gets another number, never that one twice', async () => {
    await addNumbers(3);
    const [customer, courier] = ['+6591007011', '+6591007012'];
    const first = await book(customer, courier);
    await release(first.request.bookingId);
    await holdOn(first.virtualNumber, courier, '+6591007013');
    const again = await book(customer, courier);
    assert.notEqual(again.virtualNumber, first.virtualNumber);
    assert.equal(
      await database.collections.claims.countDocuments({ party: courier, virtualNumber: first.virtualNumber }),
      1,
    );
  });

  it('is refused only when no number is free for both, its last one included', async () => {
    const numbers = await addNumbers(2);
    const [customer, courier] = ['+6591007021', '+6591007022'];
    const first = await book(customer, courier);
    await release(first.request.bookingId);
    const other = numbers.find((number) => number !== first.virtualNumber)!;
    await holdOn(first.virtualNumber, customer, '+6591007023');
    // One number is still free for both: the other one.
    const spread = await allocate(booking('not-refused', customer, courier));
    assert.equal(spread.outcome === 'allocated' && spread.lease.virtualNumber, other);
    await release('not-refused');
    // The courier holds the other: nothing is free for both.
    await holdOn(other, courier, '+6591007024');
    assert.deepEqual(await allocate(booking('refused', customer, courier)), {
      outcome: 'refused',
      reason: 'no_number_available',
    });
  });

  it('keeps no number of the pair in clear, and a booking that spreads keeps no pair record at all', async () => {
    await addNumbers(2);
    await book('+6591007031', '+6591007032', false);
    assert.equal(await database.collections.pairs.countDocuments({}), 0);
    const sticky = await book('+6591007031', '+6591007033');
    const records = await database.collections.pairs.find({}).toArray();
    assert.equal(records.length, 1);
    assert.equal(records[0]!._id, store.pairs.keyOf('+6591007033', '+6591007031'));
    assert.equal(records[0]!.virtualNumber, sticky.virtualNumber);
    assert.doesNotMatch(JSON.stringify(records), /91007031|91007033/);
  });

  it("keys the pair's record with the deployment's key: no hash of the numbers alone finds it, and a rotation keeps it", async () => {
    const [vn] = await addNumbers(1);
    const oldKey = { id: 'k1', key: randomBytes(32) };
    const newKey = { id: 'k2', key: randomBytes(32) };
    const before = new MongoAllocationStore(database.collections, { pairKeys: [oldKey] });
    await before.rememberPair('+6591007041', '+6591007042', vn!, 'booking-41');
    const [record] = await database.collections.pairs.find({}).toArray();
    // Whoever has the database but not the key: every unkeyed hash of the pair they could try misses.
    const text = ['+6591007041', '+6591007042'].sort().join('\u0000');
    for (const guess of [text, `maskline-pair-v1\u0000${text}`]) {
      assert.notEqual(record!._id, createHash('sha256').update(guess).digest('base64url'));
      assert.ok(!record!._id.includes(createHash('sha256').update(guess).digest('base64url')));
    }
    assert.match(record!._id, /^k1:/);
    // Another deployment's key finds nothing; after a rotation (new key first) the old record is still found.
    const other = new MongoAllocationStore(database.collections, { pairKeys: [{ id: 'k1', key: randomBytes(32) }] });
    assert.equal(await other.lastNumberOfPair('+6591007042', '+6591007041'), null);
    const rotated = new MongoAllocationStore(database.collections, { pairKeys: [newKey, oldKey] });
    assert.equal(await rotated.lastNumberOfPair('+6591007042', '+6591007041'), vn);
    await rotated.rememberPair('+6591007041', '+6591007042', vn!, 'booking-42');
    assert.ok(await database.collections.pairs.findOne({ _id: rotated.pairs.keyOf('+6591007041', '+6591007042') }));
    assert.match(rotated.pairs.keyOf('+6591007041', '+6591007042'), /^k2:/);
  });

  it('finds the pair’s last number in one read by key, however many pairs the store knows', async () => {
    await addNumbers(4);
    const commands: string[] = [];
    const listener = (event: { commandName: string; command: Record<string, unknown> }) =>
      commands.push(`${event.commandName} ${String(event.command[event.commandName])}`);
    const countOne = async (first: string, second: string) => {
      commands.length = 0;
      database.client.on('commandStarted', listener);
      await book(first, second);
      database.client.off('commandStarted', listener);
      return commands.filter((command) => command.endsWith(' pairs'));
    };
    const few = await countOne('+6591007041', '+6591007042');
    for (let i = 0; i < 40; i++)
      await store.rememberPair(`+65920${String(10000 + i)}`, '+6591007049', '+6560007001', `x${i}`);
    const many = await countOne('+6591007043', '+6591007044');
    assert.deepEqual(many, few);
    assert.deepEqual(few, ['find pairs', 'update pairs']);
  });

  it('never gives one person the same number in two live bookings, whatever mix of sticky and spread bookings race', async () => {
    const people = ['+6591007051', '+6591007052', '+6591007053', '+6591007054'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ a: fc.nat({ max: 3 }), b: fc.nat({ max: 3 }), sticky: fc.boolean(), releaseFirst: fc.boolean() }),
          { minLength: 4, maxLength: 12 },
        ),
        async (plan) => {
          await Promise.all(Object.values(database.collections).map((collection) => collection.deleteMany({})));
          store = new MongoAllocationStore(database.collections);
          await addNumbers(3);
          const pairs = plan.filter((p) => p.a !== p.b);
          // A first round, partly given back, leaves pairs with a last number that may now be held by one of them.
          const firstRound = await Promise.all(
            pairs.map((p, i) => allocate(booking(`r1-${bookings}-${i}`, people[p.a]!, people[p.b]!, p.sticky))),
          );
          for (const [i, outcome] of firstRound.entries()) {
            if (outcome.outcome === 'allocated' && pairs[i]!.releaseFirst) await release(outcome.lease.bookingId);
          }
          const secondRound = pairs.map((p, i) =>
            booking(`r2-${bookings++}-${i}`, people[p.a]!, people[p.b]!, p.sticky),
          );
          const outcomes = await Promise.all(secondRound.map(allocate));

          const claims = await database.collections.claims.find({}).toArray();
          assertNoNumberHeldTwice(claims);
          // Nothing ends during the second round: a refusal was true only if the pair's two people hold every number.
          for (const [i, outcome] of outcomes.entries()) {
            if (outcome.outcome !== 'refused') continue;
            const [first, second] = secondRound[i]!.parties;
            const busy = new Set(
              claims.filter((c) => c.party === first.number || c.party === second.number).map((c) => c.virtualNumber),
            );
            assert.equal(busy.size, 3, `${secondRound[i]!.bookingId} was refused while a number was free for both`);
          }
        },
      ),
      { numRuns: 8 },
    );
  });

  it('erasure and retention forget a pair’s last number', async () => {
    await addNumbers(2);
    const erased = await book('+6591007061', '+6591007062');
    const kept = await book('+6591007063', '+6591007064');
    assert.equal(await store.pairs.forgetBooking(erased.request.bookingId), 1);
    assert.equal(await store.lastNumberOfPair('+6591007061', '+6591007062'), null);
    assert.equal(await store.lastNumberOfPair('+6591007063', '+6591007064'), kept.virtualNumber);
    assert.equal(await store.pairs.deleteOlderThan(new Date(Date.now() + 60_000)), 1);
    assert.equal(await store.lastNumberOfPair('+6591007063', '+6591007064'), null);
  });
});
