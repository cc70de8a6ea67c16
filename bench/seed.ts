import type { Party } from '../src/domain/booking';
import { parseValidPhoneNumber, type E164 } from '../src/domain/phoneNumbers';
import type { ClaimDocument, Database, LeaseDocument, NumberDocument } from '../src/store/database';

/**
 * Synthetic bookings written straight into the store, in the documents the store module itself writes
 * (src/store/database.ts), so that a benchmark starts with a live load without running Temporal for it.
 *
 * Numbers: virtual numbers are Singapore fixed-line numbers (+656…), riders and couriers Singapore mobiles
 * (+659…); every one is valid by libphonenumber, so 8x8 webhooks naming them pass validation.
 */

/** The first `count` valid Singapore numbers from +6561000000 up: a pool of virtual numbers. */
export function virtualNumbers(count: number): E164[] {
  const numbers: E164[] = [];
  for (let n = 61_000_000; numbers.length < count; n++) {
    const number = `+65${n}`;
    if (parseValidPhoneNumber(number)) numbers.push(number);
  }
  return numbers;
}

/** Riders: +6590000000 … +6593999999, one per booking. (All of +659[0-7]xxxxxx is valid.) */
export const rider = (i: number): E164 => `+659${String(i).padStart(7, '0')}`;
/** Couriers: +6594000000 … +6597999999; each holds several bookings at once. */
export const courier = (i: number): E164 => `+659${String(4_000_000 + i).padStart(7, '0')}`;
/** People with no booking at all (callers who dial a number they should not): +6598000000 … */
export const stranger = (i: number): E164 => `+659${String(8_000_000 + (i % 999_999)).padStart(7, '0')}`;

export interface SeededBooking {
  bookingId: string;
  virtualNumber: E164;
  parties: [Party, Party];
}

/**
 * `count` live bookings over `pool`: booking i pairs rider i with courier i mod `couriers`, and each courier's
 * bookings sit on distinct numbers, spread evenly — conflict-free, as allocation would have made them.
 */
export function syntheticBookings(options: { count: number; pool: readonly E164[]; couriers: number; prefix: string }) {
  const { count, pool, couriers, prefix } = options;
  const perCourier = Math.ceil(count / couriers);
  if (perCourier > pool.length)
    throw new Error(`${perCourier} bookings per courier need more than ${pool.length} numbers`);
  const stride = Math.floor(pool.length / perCourier);
  const bookings: SeededBooking[] = [];
  for (let i = 0; i < count; i++) {
    const c = i % couriers;
    const k = Math.floor(i / couriers);
    bookings.push({
      bookingId: `${prefix}-${i}`,
      virtualNumber: pool[(c + k * stride) % pool.length]!,
      parties: [
        { role: 'rider', number: rider(i) },
        { role: 'courier', number: courier(c) },
      ],
    });
  }
  return bookings;
}

/** Writes the pool and the bookings (numbers, leases, the two claims of each booking). */
export async function seedStore(database: Database, pool: readonly E164[], bookings: readonly SeededBooking[]) {
  const { numbers, leases, claims } = database.collections;
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 24 * 3600 * 1000);

  const numberDocs: NumberDocument[] = pool.map((number) => ({
    _id: number,
    countryCode: 'SG',
    referenceId: null,
    status: 'active',
    createdAt: now,
    updatedAt: now,
  }));
  await insertInBatches(numbers, numberDocs);

  await insertInBatches(
    leases,
    bookings.map((booking): LeaseDocument => ({
      _id: booking.bookingId,
      run: `seeded-${booking.bookingId}`,
      runStartedAt: now,
      virtualNumber: booking.virtualNumber,
      parties: booking.parties,
      status: 'active',
      createdAt: now,
      expiresAt,
    })),
  );

  const claimDocs = function* (): Generator<ClaimDocument> {
    for (const booking of bookings) {
      for (const [self, other] of [booking.parties, [booking.parties[1], booking.parties[0]]] as const) {
        yield {
          _id: `${self.number}|${booking.virtualNumber}`,
          party: self.number,
          role: self.role,
          virtualNumber: booking.virtualNumber,
          bookingId: booking.bookingId,
          run: `seeded-${booking.bookingId}`,
          runStartedAt: now,
          otherParty: other.number,
          otherRole: other.role,
          settled: true,
          claimedAt: now,
        };
      }
    }
  };
  await insertInBatches(claims, claimDocs());
}

const BATCH = 2_000;

async function insertInBatches<T extends { _id: string }>(
  collection: { insertMany(docs: T[], options: { ordered: boolean }): Promise<unknown> },
  docs: Iterable<T>,
) {
  let batch: T[] = [];
  for (const doc of docs) {
    batch.push(doc);
    if (batch.length === BATCH) {
      await collection.insertMany(batch, { ordered: false });
      batch = [];
    }
  }
  if (batch.length > 0) await collection.insertMany(batch, { ordered: false });
}
