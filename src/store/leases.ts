import type { AllocationStore, CandidateNumber, ClaimResult, Lease } from '../domain/allocation';
import type { BookingRequest, Party } from '../domain/booking';
import type { E164 } from '../domain/phoneNumbers';
import type { Collections, ClaimDocument, LeaseDocument } from './database';
import { AllocatableNumbers } from './allocatableNumbers';
import { isDuplicateKey } from './numberPool';

function claimId(party: E164, virtualNumber: E164): string {
  return `${party}|${virtualNumber}`;
}

/** What call routing needs to know about (caller, VN): who to connect them to. */
export interface Route {
  bookingId: string;
  callerRole: string;
  otherParty: E164;
  otherRole: string;
}

/**
 * Leases on MongoDB: the claims that make allocation conflict-free, the pairing records, and the counts that
 * spread load. Every write is a single-document atomic operation and every one is safe to repeat.
 */
export class LeaseStore implements AllocationStore {
  private readonly allocatable: AllocatableNumbers;

  constructor(
    private readonly collections: Pick<Collections, 'numbers' | 'claims' | 'leases'>,
    options: { allocatable?: AllocatableNumbers } = {},
  ) {
    this.allocatable = options.allocatable ?? new AllocatableNumbers(collections);
  }

  async findLease(bookingId: string): Promise<Lease | null> {
    const doc = await this.collections.leases.findOne({ _id: bookingId });
    return doc ? { bookingId: doc._id, virtualNumber: doc.virtualNumber, parties: doc.parties } : null;
  }

  async findClaims(bookingId: string) {
    const docs = await this.collections.claims.find({ bookingId }).toArray();
    return docs.map((doc) => ({ party: doc.party, virtualNumber: doc.virtualNumber }));
  }

  async holdingsOf(parties: E164[]) {
    const docs = await this.collections.claims
      .find({ party: { $in: parties } }, { projection: { virtualNumber: 1, settled: 1 } })
      .toArray();
    return docs.map((doc) => ({ virtualNumber: doc.virtualNumber, settled: doc.settled }));
  }

  async leastLoadedNumbers(query: {
    countryCode: string | null;
    exclude: E164[];
    limit: number;
  }): Promise<CandidateNumber[]> {
    const candidates = await this.allocatable.leastLoaded(query);
    if (candidates.length > 0) return candidates;
    // A refusal must rest on the store, not on a view that may miss a number added a moment ago.
    await this.allocatable.refresh();
    return this.allocatable.leastLoaded(query);
  }

  async isAllocatable(virtualNumber: E164): Promise<boolean> {
    const doc = await this.collections.numbers.findOne({ _id: virtualNumber }, { projection: { status: 1 } });
    if (doc?.status === 'active') return true;
    this.allocatable.remove(virtualNumber);
    return false;
  }

  async claim(claim: {
    bookingId: string;
    party: Party;
    otherParty: Party;
    virtualNumber: E164;
  }): Promise<ClaimResult> {
    const doc: ClaimDocument = {
      _id: claimId(claim.party.number, claim.virtualNumber),
      party: claim.party.number,
      role: claim.party.role,
      virtualNumber: claim.virtualNumber,
      bookingId: claim.bookingId,
      otherParty: claim.otherParty.number,
      otherRole: claim.otherParty.role,
      settled: false,
      claimedAt: new Date(),
    };
    try {
      await this.collections.claims.insertOne(doc);
      return 'claimed';
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // A retried insert whose first try did land finds its own claim: that is a success, not a conflict.
      const holder = await this.collections.claims.findOne({ _id: doc._id }, { projection: { bookingId: 1 } });
      return holder?.bookingId === claim.bookingId ? 'claimed' : 'taken';
    }
  }

  async unclaim(claim: { bookingId: string; party: E164; virtualNumber: E164 }): Promise<void> {
    await this.collections.claims.deleteOne({
      _id: claimId(claim.party, claim.virtualNumber),
      bookingId: claim.bookingId,
    });
  }

  async recordLease(lease: Lease, request: BookingRequest): Promise<void> {
    // The number's count moves only if this booking is not yet in its list: a retry never counts twice.
    const counted = await this.collections.numbers.updateOne(
      { _id: lease.virtualNumber, bookingIds: { $ne: lease.bookingId } },
      { $push: { bookingIds: lease.bookingId }, $inc: { liveBookings: 1 } },
    );
    if (counted.modifiedCount > 0) this.allocatable.adjust(lease.virtualNumber, +1);
    const now = new Date();
    const doc: LeaseDocument = {
      _id: lease.bookingId,
      virtualNumber: lease.virtualNumber,
      parties: lease.parties,
      status: 'active',
      createdAt: now,
      expiresAt: new Date(now.getTime() + request.expiresInSeconds * 1000),
    };
    await this.collections.leases.updateOne({ _id: lease.bookingId }, { $setOnInsert: doc }, { upsert: true });
    await this.collections.claims.updateMany({ bookingId: lease.bookingId }, { $set: { settled: true } });
  }

  async markCompleting(bookingId: string): Promise<void> {
    await this.collections.leases.updateOne({ _id: bookingId }, { $set: { status: 'completing' } });
  }

  /**
   * Gives the booking's number back: claims first (calls stop routing), then the count, then the pairing
   * record. Each step is idempotent, so a release interrupted anywhere is finished by its retry.
   */
  async release(bookingId: string, virtualNumber: E164 | null): Promise<void> {
    const claims = await this.collections.claims.find({ bookingId }, { projection: { virtualNumber: 1 } }).toArray();
    const numbers = new Set<E164>(claims.map((claim) => claim.virtualNumber));
    if (virtualNumber) numbers.add(virtualNumber);
    await this.collections.claims.deleteMany({ bookingId });
    for (const number of numbers) {
      const uncounted = await this.collections.numbers.updateOne(
        { _id: number, bookingIds: bookingId },
        { $pull: { bookingIds: bookingId }, $inc: { liveBookings: -1 } },
      );
      if (uncounted.modifiedCount > 0) this.allocatable.adjust(number, -1);
    }
    await this.collections.leases.deleteOne({ _id: bookingId });
  }

  /** The call-routing lookup: one read by primary key. */
  async findRoute(caller: E164, virtualNumber: E164): Promise<Route | null> {
    const doc = await this.collections.claims.findOne(
      { _id: claimId(caller, virtualNumber) },
      { projection: { bookingId: 1, role: 1, otherParty: 1, otherRole: 1 } },
    );
    return doc
      ? { bookingId: doc.bookingId, callerRole: doc.role, otherParty: doc.otherParty, otherRole: doc.otherRole }
      : null;
  }

  /**
   * Brings the per-number load counts that allocation ranks by back in line with the pairings. On MongoDB the
   * guarded $inc keeps them exact and this finds nothing; FerretDB 1.x applies concurrent updates of one
   * document as read-modify-write and can lose one, so there this heals the drift. A count is only corrected
   * when it disagrees in the same way twice in a row, so an allocation between its two writes is not "fixed".
   */
  async reconcileLoad(
    previous: Map<E164, string> = new Map(),
  ): Promise<{ corrected: number; observed: Map<E164, string> }> {
    const [numbers, leases] = await Promise.all([
      this.collections.numbers.find({}, { projection: { liveBookings: 1, bookingIds: 1 } }).toArray(),
      this.collections.leases.find({}, { projection: { virtualNumber: 1 } }).toArray(),
    ]);
    const actual = new Map<E164, string[]>();
    for (const lease of leases)
      actual.set(lease.virtualNumber, [...(actual.get(lease.virtualNumber) ?? []), lease._id]);
    const observed = new Map<E164, string>();
    let corrected = 0;
    for (const number of numbers) {
      const bookingIds = (actual.get(number._id) ?? []).sort();
      const stored = [...number.bookingIds].sort();
      if (number.liveBookings === bookingIds.length && stored.join() === bookingIds.join()) continue;
      const signature = `${number.liveBookings}:${stored.join()}|${bookingIds.join()}`;
      observed.set(number._id, signature);
      if (previous.get(number._id) !== signature) continue;
      await this.collections.numbers.updateOne(
        { _id: number._id, liveBookings: number.liveBookings },
        { $set: { liveBookings: bookingIds.length, bookingIds } },
      );
      corrected += 1;
    }
    return { corrected, observed };
  }

  /** The bookings that hold a pairing or part of one (claims of an allocation under way or interrupted). */
  async bookingsHoldingNumbers(): Promise<{ bookingId: string; virtualNumber: E164 }[]> {
    const [leases, claims] = await Promise.all([
      this.collections.leases.find({}, { projection: { virtualNumber: 1 } }).toArray(),
      this.collections.claims.find({}, { projection: { bookingId: 1, virtualNumber: 1 } }).toArray(),
    ]);
    const holders = new Map<string, E164>();
    for (const claim of claims) holders.set(claim.bookingId, claim.virtualNumber);
    for (const lease of leases) holders.set(lease._id, lease.virtualNumber);
    return [...holders].map(([bookingId, virtualNumber]) => ({ bookingId, virtualNumber }));
  }

  /** Live pairings, for the reconciler and for operators. */
  async listLeases(): Promise<LeaseDocument[]> {
    return this.collections.leases.find({}).toArray();
  }
}
