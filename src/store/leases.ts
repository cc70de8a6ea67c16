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
      const holder = await this.collections.claims.findOne(
        { _id: doc._id },
        { projection: { bookingId: 1, settled: 1 } },
      );
      if (holder?.bookingId === claim.bookingId) return 'claimed';
      // Gone already: it was an attempt that gave it back; worth another look, not a fact.
      return holder?.settled ? 'held' : 'in_flight';
    }
  }

  async unclaim(claim: { bookingId: string; party: E164; virtualNumber: E164 }): Promise<void> {
    // Read, then delete, each by primary key alone (FerretDB scans for any other filter). Safe: only this
    // booking ever deletes its own claim, so the claim read as ours is still ours when it is deleted.
    await this.deleteClaimsOf(claim.bookingId, [claimId(claim.party, claim.virtualNumber)]);
  }

  private async deleteClaimsOf(bookingId: string, ids: string[]): Promise<void> {
    for (const _id of ids) {
      const holder = await this.collections.claims.findOne({ _id }, { projection: { bookingId: 1 } });
      if (holder?.bookingId === bookingId) await this.collections.claims.deleteOne({ _id });
    }
  }

  async recordLease(lease: Lease, request: BookingRequest): Promise<void> {
    const now = new Date();
    const doc: LeaseDocument = {
      _id: lease.bookingId,
      virtualNumber: lease.virtualNumber,
      parties: lease.parties,
      status: 'active',
      createdAt: now,
      expiresAt: new Date(now.getTime() + request.expiresInSeconds * 1000),
    };
    const recorded = await this.collections.leases.updateOne(
      { _id: lease.bookingId },
      { $setOnInsert: doc },
      { upsert: true },
    );
    if (recorded.upsertedCount > 0) this.allocatable.adjust(lease.virtualNumber, +1);
    for (const party of lease.parties) {
      await this.collections.claims.updateOne(
        { _id: claimId(party.number, lease.virtualNumber) },
        { $set: { settled: true } },
      );
    }
  }

  async markCompleting(bookingId: string): Promise<void> {
    await this.collections.leases.updateOne({ _id: bookingId }, { $set: { status: 'completing' } });
  }

  /**
   * Gives the booking's number back: claims first (calls stop routing), then the pairing record. Each step is
   * idempotent, so a release interrupted anywhere is finished by its retry. The pairing names the claims, so
   * they are deleted by primary key; only a booking without one (an interrupted allocation) is looked up.
   */
  async release(bookingId: string, virtualNumber: E164 | null): Promise<void> {
    const lease = await this.collections.leases.findOne({ _id: bookingId });
    if (lease) {
      const ids = lease.parties.map((party) => claimId(party.number, lease.virtualNumber));
      await this.deleteClaimsOf(bookingId, ids);
    } else {
      const claims = await this.collections.claims.find({ bookingId }, { projection: { _id: 1 } }).toArray();
      await this.deleteClaimsOf(
        bookingId,
        claims.map((claim) => claim._id),
      );
    }
    const deleted = await this.collections.leases.deleteOne({ _id: bookingId });
    if (deleted.deletedCount > 0) this.allocatable.adjust(lease?.virtualNumber ?? virtualNumber ?? '', -1);
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
