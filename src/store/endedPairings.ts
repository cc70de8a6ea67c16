import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Holder } from '../domain/allocation';
import { targetsOf, type Party, type Reach } from '../domain/booking';
import type { AfterEnd, AfterEndRoute, EndedPairing } from '../domain/outOfSession';
import type { E164 } from '../domain/phoneNumbers';

/** One of the deployment's encryption keys (MASKLINE_ENCRYPTION_KEYS), newest first: the pairings derive theirs. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}
import { runOf, type LeaseDocument } from './database';

/**
 * One party's pairing with a VN, kept for a window after its booking ended so that a late call can be routed.
 * Minimal, and unreadable without the deployment's encryption keys: the key is an HMAC of (caller, VN), so the
 * caller's number is not stored at all, and the other party's number is encrypted (AES-256-GCM, bound to the key).
 * It is no claim: allocation never reads it, so the VN goes back to the pool at once and may be given to anyone.
 */
export interface EndedPairingDocument {
  /** `<keyId>:<base64url HMAC-SHA256 of caller|VN>`: one equality read finds it, by primary key. */
  _id: string;
  bookingId: string;
  callerRole: string;
  otherRole: string;
  /** The other party's number, encrypted: `<iv>.<tag>.<ciphertext>`, base64url each. */
  otherParty: string;
  route: AfterEndRoute;
  askUrl?: string;
  endedAt: Date;
  /** Past this the pairing routes nothing; retention deletes it (FerretDB has no TTL index). */
  closesAt: Date;
}

const LOOKUP_LABEL = 'maskline ended-pairing lookup v1';
const SEALING_LABEL = 'maskline ended-pairing sealing v1';

interface DerivedKey {
  id: string;
  lookup: Buffer;
  sealing: Buffer;
}

function derive(key: EncryptionKey): DerivedKey {
  // Keys of their own, so that neither a pairing's key nor its ciphertext says anything about Temporal payloads.
  return {
    id: key.id,
    lookup: createHmac('sha256', key.key).update(LOOKUP_LABEL).digest(),
    sealing: createHmac('sha256', key.key).update(SEALING_LABEL).digest(),
  };
}

function lookupId(key: DerivedKey, caller: E164, virtualNumber: E164): string {
  return `${key.id}:${createHmac('sha256', key.lookup).update(`${caller}|${virtualNumber}`).digest('base64url')}`;
}

function seal(key: DerivedKey, id: string, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.sealing, iv);
  cipher.setAAD(Buffer.from(id));
  const data = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64url')).join('.');
}

function open(key: DerivedKey, id: string, sealed: string): string | null {
  const [iv, tag, data] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !data) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.sealing, iv);
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/** The pairings of recently ended bookings: kept at release, read by the call-action answer, deleted by retention. */
export class EndedPairings {
  private readonly keys: DerivedKey[];

  constructor(
    private readonly collection: Collection<EndedPairingDocument>,
    keys: readonly EncryptionKey[],
    private readonly leases?: Collection<LeaseDocument>,
  ) {
    if (keys.length === 0) throw new Error('ended pairings need an encryption key');
    this.keys = keys.map(derive);
  }

  /**
   * Keeps the parties' pairings with the VN, under the newest key. Idempotent (a retried release writes the same
   * keys); a later booking of the same people on the same VN that ends replaces them. "The other party" of a late
   * caller is the one party the booking let them reach: a party of a larger booking who could reach several (or
   * none) keeps no pairing, and calls late as anyone else does (the deployment's out-of-session policy).
   */
  async keep(input: {
    bookingId: string;
    virtualNumber: E164;
    parties: readonly Party[];
    reach?: Reach;
    afterEnd: AfterEnd;
    endedAt: Date;
  }): Promise<void> {
    const key = this.keys[0]!;
    const closesAt = new Date(input.endedAt.getTime() + input.afterEnd.windowSeconds * 1000);
    const booking = { parties: input.parties, ...(input.reach ? { reach: input.reach } : {}) };
    const pairs = input.parties.flatMap((caller) => {
      const targets = targetsOf(booking, caller.role);
      return targets.length === 1 ? [[caller, targets[0]!] as const] : [];
    });
    await Promise.all(
      pairs.map(([caller, other]) => {
        const _id = lookupId(key, caller!.number, input.virtualNumber);
        const doc: EndedPairingDocument = {
          _id,
          bookingId: input.bookingId,
          callerRole: caller!.role,
          otherRole: other!.role,
          otherParty: seal(key, _id, other!.number),
          route: input.afterEnd.route,
          ...(input.afterEnd.askUrl !== undefined ? { askUrl: input.afterEnd.askUrl } : {}),
          endedAt: input.endedAt,
          closesAt,
        };
        return this.collection.replaceOne({ _id }, doc, { upsert: true });
      }),
    );
  }

  /**
   * Called as a booking run gives its number back, before the release wipes the parties from its lease: keeps the
   * pairing when the booking asked for a window. A retry after the release finds no parties and keeps nothing
   * more (the first attempt kept them before releasing).
   */
  async keepForRun(holder: Holder, endedAt = new Date()): Promise<boolean> {
    if (!this.leases) throw new Error('keepForRun needs the leases collection');
    const lease = await this.leases.findOne({ _id: holder.bookingId, ...runOf(holder) });
    if (!lease?.parties || !lease.afterEnd || lease.afterEnd.windowSeconds <= 0 || lease.status === 'released') {
      return false;
    }
    await this.keep({
      bookingId: holder.bookingId,
      virtualNumber: lease.virtualNumber,
      parties: lease.parties,
      ...(lease.reach ? { reach: lease.reach } : {}),
      afterEnd: lease.afterEnd,
      endedAt,
    });
    return true;
  }

  /**
   * The open pairing of (caller, VN), if any: one read by primary key per encryption key in use (one, but for
   * the time of a key rotation), side by side.
   */
  async find(caller: E164, virtualNumber: E164, now = new Date()): Promise<EndedPairing | null> {
    const found = await Promise.all(
      this.keys.map(async (key) => {
        const _id = lookupId(key, caller, virtualNumber);
        const doc = await this.collection.findOne({ _id });
        return doc ? { key, doc } : null;
      }),
    );
    for (const hit of found) {
      if (!hit || hit.doc.closesAt.getTime() <= now.getTime()) continue;
      const otherParty = open(hit.key, hit.doc._id, hit.doc.otherParty);
      if (otherParty === null) continue;
      return {
        bookingId: hit.doc.bookingId,
        callerRole: hit.doc.callerRole,
        otherRole: hit.doc.otherRole,
        otherParty,
        route: hit.doc.route,
        askUrl: hit.doc.askUrl ?? null,
        endedAt: hit.doc.endedAt,
      };
    }
    return null;
  }

  /** Retention: the pairings whose window has closed. Returns how many were deleted. */
  async deleteClosed(now = new Date()): Promise<number> {
    const deleted = await this.collection.deleteMany({ closesAt: { $lte: now } });
    return deleted.deletedCount;
  }

  /** Erasure of one booking. */
  async deleteOfBooking(bookingId: string): Promise<number> {
    const deleted = await this.collection.deleteMany({ bookingId });
    return deleted.deletedCount;
  }
}
