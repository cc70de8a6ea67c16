import { MongoServerError } from 'mongodb';
import type { E164 } from '../domain/phoneNumbers';
import type { Collections, NumberDocument, NumberStatus } from './database';

export interface PoolNumber {
  number: E164;
  countryCode: string | null;
  referenceId: string | null;
  status: NumberStatus;
  liveBookings: number;
  createdAt: string;
  updatedAt: string;
}

export class NumberExists extends Error {
  override name = 'NumberExists';
}

const DUPLICATE_KEY = 11000;

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

function toPoolNumber(doc: NumberDocument): PoolNumber {
  return {
    number: doc._id,
    countryCode: doc.countryCode,
    referenceId: doc.referenceId,
    status: doc.status,
    liveBookings: doc.liveBookings,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

/** The pool of virtual numbers Maskline may give to bookings. */
export class NumberPool {
  constructor(private readonly collections: Pick<Collections, 'numbers' | 'leases'>) {}

  async add(input: { number: E164; countryCode: string | null; referenceId: string | null }): Promise<PoolNumber> {
    const now = new Date();
    const doc: NumberDocument = {
      _id: input.number,
      countryCode: input.countryCode,
      referenceId: input.referenceId,
      status: 'active',
      liveBookings: 0,
      bookingIds: [],
      tieBreak: Math.random(),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.collections.numbers.insertOne(doc);
    } catch (error) {
      if (isDuplicateKey(error)) throw new NumberExists(`${input.number} is already in the pool`);
      throw error;
    }
    return toPoolNumber(doc);
  }

  /** The pool with each number's live bookings counted from the pairings themselves, not the allocation hint. */
  async list(): Promise<PoolNumber[]> {
    const [docs, counts] = await Promise.all([
      this.collections.numbers.find({}, { projection: { bookingIds: 0 } }).sort({ _id: 1 }).toArray(),
      this.liveBookingsByNumber(),
    ]);
    return docs.map((doc) => toPoolNumber({ ...doc, bookingIds: [], liveBookings: counts.get(doc._id) ?? 0 }));
  }

  async liveBookingsByNumber(): Promise<Map<E164, number>> {
    const groups = await this.collections.leases
      .aggregate<{ _id: E164; count: number }>([{ $group: { _id: '$virtualNumber', count: { $sum: 1 } } }])
      .toArray();
    return new Map(groups.map((group) => [group._id, group.count]));
  }

  async get(number: E164): Promise<PoolNumber | null> {
    const doc = await this.collections.numbers.findOne({ _id: number }, { projection: { bookingIds: 0 } });
    return doc ? toPoolNumber({ ...doc, bookingIds: [] }) : null;
  }

  /** Stops giving the number to new bookings; bookings that hold it keep it. Returns null when unknown. */
  async setStatus(number: E164, status: NumberStatus): Promise<PoolNumber | null> {
    const doc = await this.collections.numbers.findOneAndUpdate(
      { _id: number },
      { $set: { status, updatedAt: new Date() } },
      // No projection: FerretDB 1.x does not implement one on findAndModify.
      { returnDocument: 'after' },
    );
    return doc ? toPoolNumber(doc) : null;
  }
}
