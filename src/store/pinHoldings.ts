import { randomInt, randomUUID } from 'node:crypto';
import type { Holder } from '../domain/allocation';
import { preferredCountry } from '../domain/allocation';
import type { BookingRequest, Party } from '../domain/booking';
import type { E164 } from '../domain/phoneNumbers';
import { attemptWindowOf, drawPin, PIN_DRAWS_PER_NUMBER } from '../domain/pin';
import { heldBy, type Collections, type PinDocument } from './database';
import type { EncryptionKey } from './endedPairings';
import { DEVELOPMENT_KEYS, KeyedLookup } from './keyedLookup';
import { isDuplicateKey } from './numberPool';

export function pinId(virtualNumber: E164, pin: string): string {
  return `${virtualNumber}#${pin}`;
}

export interface PinHolding {
  virtualNumber: E164;
  pin: string;
}

/** The booking a (VN, PIN) names, as a PIN call is routed by it. */
export interface PinRoute {
  bookingId: string;
  parties: Party[];
  record: boolean;
}

/**
 * The PIN set's holdings in the store: which live booking holds which (VN, PIN), and the callers' wrong PINs.
 * Every write is an insert under a unique key or a delete conditional on the run, so it runs unchanged on FerretDB.
 */
export class PinHoldings {
  private readonly callers: KeyedLookup;

  constructor(
    private readonly collections: Pick<Collections, 'numbers' | 'pins' | 'pinAttempts'>,
    private readonly draw: (max: number) => number = randomInt,
    keys: readonly EncryptionKey[] = DEVELOPMENT_KEYS,
  ) {
    this.callers = new KeyedLookup(keys, 'caller of a PIN number');
  }

  /**
   * A caller as the guessing bound counts them, in one window: an HMAC of the number with the deployment's key,
   * never the number. Written with the newest key only: across a rotation a caller's count starts again, which
   * lets through at most one more window's worth of guesses.
   */
  private callerBucket(caller: E164, at: number): string {
    return `${this.callers.current(caller)}:${attemptWindowOf(at)}`;
  }

  /** What this run holds already (a retried attempt finds its own PIN). */
  async heldBy(holder: Holder): Promise<PinHolding | null> {
    const doc = await this.collections.pins.findOne(heldBy(holder), { projection: { virtualNumber: 1, pin: 1 } });
    return doc ? { virtualNumber: doc.virtualNumber, pin: doc.pin } : null;
  }

  /**
   * A number of the PIN set and a PIN no live booking on it holds, for the run: the parties' country first (any
   * country too unless the booking is `strict`), numbers in random order, a few fresh PINs on each. Null: the
   * PIN set is empty or full.
   */
  async take(request: BookingRequest, holder: Holder): Promise<PinHolding | null> {
    const country = preferredCountry(request.parties);
    const numbers = await this.collections.numbers
      .find({ use: 'pin' }, { projection: { status: 1, countryCode: 1 } })
      .toArray();
    const usable = shuffled(numbers.filter((doc) => doc.status === 'active'));
    const ofCountry = usable.filter((doc) => country === null || doc.countryCode === country);
    const others = request.geoMatch === 'strict' ? [] : usable.filter((doc) => !ofCountry.includes(doc));
    for (const number of [...ofCountry, ...others]) {
      for (let draw = 0; draw < PIN_DRAWS_PER_NUMBER; draw++) {
        const pin = drawPin(this.draw);
        const doc: PinDocument = {
          _id: pinId(number._id, pin),
          virtualNumber: number._id,
          pin,
          bookingId: holder.bookingId,
          run: holder.run,
          runStartedAt: new Date(holder.runStartedAt),
          parties: request.parties,
          claimedAt: new Date(),
          ...(request.record ? { record: true as const } : {}),
        };
        try {
          await this.collections.pins.insertOne(doc);
          return { virtualNumber: number._id, pin };
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      }
    }
    return null;
  }

  /** Gives back every PIN the run holds; each delete is conditional on the run. Returns how many. */
  async giveBack(holder: Holder): Promise<number> {
    const held = await this.collections.pins.find(heldBy(holder), { projection: { _id: 1 } }).toArray();
    const deleted = await Promise.all(
      held.map((doc) => this.collections.pins.deleteOne({ _id: doc._id, ...heldBy(holder) })),
    );
    return deleted.reduce((sum, result) => sum + result.deletedCount, 0);
  }

  async route(virtualNumber: E164, pin: string): Promise<PinRoute | null> {
    const doc = await this.collections.pins.findOne(
      { _id: pinId(virtualNumber, pin) },
      { projection: { bookingId: 1, parties: 1, record: 1 } },
    );
    return doc ? { bookingId: doc.bookingId, parties: doc.parties, record: doc.record === true } : null;
  }

  /** Whether calls to this number ask for a PIN (one read by primary key). */
  async isPinNumber(virtualNumber: E164): Promise<boolean> {
    const doc = await this.collections.numbers.findOne({ _id: virtualNumber }, { projection: { use: 1 } });
    return doc?.use === 'pin';
  }

  async wrongAttempts(caller: E164, at: number = Date.now()): Promise<number> {
    return this.collections.pinAttempts.countDocuments({ bucket: this.callerBucket(caller, at) });
  }

  async recordWrongAttempt(caller: E164, at: number = Date.now()): Promise<void> {
    await this.collections.pinAttempts.insertOne({
      _id: randomUUID(),
      bucket: this.callerBucket(caller, at),
      at: new Date(at),
    });
  }

  /** Retention: wrong PINs older than the window count for nothing. */
  async deleteAttemptsBefore(before: Date): Promise<number> {
    const deleted = await this.collections.pinAttempts.deleteMany({ at: { $lt: before } });
    return deleted.deletedCount;
  }
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
