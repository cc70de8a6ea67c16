import { createHash } from 'node:crypto';
import type { E164 } from '../domain/phoneNumbers';
import type { Collections } from './database';
import { isDuplicateKey } from './numberPool';

/**
 * The key of a pair of people: a hash of their two numbers in a fixed order, so that (a, b) and (b, a) are one
 * pair, and no number is written in clear.
 */
export function pairKey(first: E164, second: E164): string {
  const [low, high] = first < second ? [first, second] : [second, first];
  return createHash('sha256').update(`maskline-pair-v1\u0000${low}\u0000${high}`).digest('base64url');
}

/**
 * The virtual number each pair of people had in their last booking with `numberSelection: "prefer-sticky"`, for
 * the next one to try first. One document per pair under its key: finding it is one read by primary key, however
 * many pairs there are. Bookings that spread keep no record here.
 */
export class PairHistory {
  constructor(private readonly collections: Pick<Collections, 'pairs'>) {}

  async lastNumber(first: E164, second: E164): Promise<E164 | null> {
    const doc = await this.collections.pairs.findOne(
      { _id: pairKey(first, second) },
      { projection: { virtualNumber: 1 } },
    );
    return doc?.virtualNumber ?? null;
  }

  /**
   * Notes the pair's number of a booking that has become active. Two bookings of one pair at once may race here
   * (on FerretDB an update is read-modify-write): either number is a right answer, the later write wins.
   */
  async remember(first: E164, second: E164, virtualNumber: E164, bookingId: string): Promise<void> {
    const _id = pairKey(first, second);
    const fields = { virtualNumber, bookingId, updatedAt: new Date() };
    try {
      await this.collections.pairs.updateOne({ _id }, { $set: fields }, { upsert: true });
    } catch (error) {
      // Two upserts of one new key at once: one inserts, the other fails on the key instead of matching.
      if (!isDuplicateKey(error)) throw error;
      await this.collections.pairs.updateOne({ _id }, { $set: fields });
    }
  }

  /** Erasure of a booking: the pair's record goes if this booking wrote it last. */
  async forgetBooking(bookingId: string): Promise<number> {
    return (await this.collections.pairs.deleteMany({ bookingId })).deletedCount;
  }

  /** Retention: a pair that has had no booking since `cutoff` is forgotten. */
  async deleteOlderThan(cutoff: Date): Promise<number> {
    return (await this.collections.pairs.deleteMany({ updatedAt: { $lt: cutoff } })).deletedCount;
  }
}
