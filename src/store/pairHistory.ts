import type { E164 } from '../domain/phoneNumbers';
import type { EncryptionKey } from './endedPairings';
import type { Collections } from './database';
import { DEVELOPMENT_KEYS, KeyedLookup } from './keyedLookup';
import { isDuplicateKey } from './numberPool';

/** A pair of people as one text: their two numbers in a fixed order, so that (a, b) and (b, a) are one pair. */
function pairText(first: E164, second: E164): string {
  const [low, high] = first < second ? [first, second] : [second, first];
  return `${low}\u0000${high}`;
}

/**
 * The virtual number each pair of people had in their last booking with `numberSelection: "prefer-sticky"`, for
 * the next one to try first. One document per pair under its key, an HMAC of the two numbers with the deployment's
 * key (src/store/keyedLookup.ts): no number is written, and the database alone cannot tell whose pair it is.
 * Finding it is one read by primary key per encryption key in use, however many pairs there are. Bookings that
 * spread keep no record here.
 */
export class PairHistory {
  private readonly lookup: KeyedLookup;

  constructor(
    private readonly collections: Pick<Collections, 'pairs'>,
    keys: readonly EncryptionKey[] = DEVELOPMENT_KEYS,
  ) {
    this.lookup = new KeyedLookup(keys, 'pair of people');
  }

  /** The key the pair's record is written under now. */
  keyOf(first: E164, second: E164): string {
    return this.lookup.current(pairText(first, second));
  }

  async lastNumber(first: E164, second: E164): Promise<E164 | null> {
    // Newest key first: after a rotation the older key's record still counts until the pair books again.
    for (const _id of this.lookup.all(pairText(first, second))) {
      const doc = await this.collections.pairs.findOne({ _id }, { projection: { virtualNumber: 1 } });
      if (doc) return doc.virtualNumber;
    }
    return null;
  }

  /**
   * Notes the pair's number of a booking that has become active. Two bookings of one pair at once may race here
   * (on FerretDB an update is read-modify-write): either number is a right answer, the later write wins.
   */
  async remember(first: E164, second: E164, virtualNumber: E164, bookingId: string): Promise<void> {
    const _id = this.keyOf(first, second);
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
