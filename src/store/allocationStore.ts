import {
  isEarlierRun,
  type AllocationStore,
  type CandidateNumber,
  type ClaimResult,
  type HeldClaim,
  type Holder,
  type Lease,
  type RecordedLease,
} from '../domain/allocation';
import type { BookingRequest, Parties, Party } from '../domain/booking';
import type { E164 } from '../domain/phoneNumbers';
import {
  claimId,
  heldBy,
  holderOf,
  isHeldBy,
  runOf,
  type ClaimDocument,
  type Collections,
  type LeaseDocument,
} from './database';
import type { EncryptionKey } from './endedPairings';
import { PairHistory } from './pairHistory';
import { PoolView } from './poolView';
import { isDuplicateKey } from './numberPool';

/** Claims read in one batch: a party's every holding, up to a size no real party reaches. */
const HOLDINGS_BATCH = 10_000;

const HELD_CLAIM_FIELDS = {
  party: 1,
  otherParty: 1,
  virtualNumber: 1,
  bookingId: 1,
  run: 1,
  runStartedAt: 1,
  settled: 1,
} as const;

function heldClaim(
  doc: Pick<ClaimDocument, 'party' | 'otherParty' | 'virtualNumber' | 'bookingId' | 'run' | 'runStartedAt' | 'settled'>,
): HeldClaim {
  return {
    party: doc.party,
    otherParty: doc.otherParty,
    virtualNumber: doc.virtualNumber,
    holder: holderOf(doc),
    settled: doc.settled ?? false,
  };
}

function recorded(doc: LeaseDocument): RecordedLease {
  return {
    bookingId: doc._id,
    virtualNumber: doc.virtualNumber,
    // A released lease names no parties any more: nothing reads them from it.
    parties: doc.parties ?? ([] as unknown as Parties),
    holder: holderOf({ bookingId: doc._id, run: doc.run, runStartedAt: doc.runStartedAt }),
    released: doc.status === 'released',
  };
}

/**
 * Allocation's store on MongoDB (and FerretDB): the claims that make allocation conflict-free and the pairing
 * records (leases), as allocation and release write them. The claims are also what calls are routed by
 * (callRoutes.ts), and what the reconciler reads (holdings.ts).
 * Every write is a single-document operation, each safe to repeat; every change to a claim or a lease is
 * conditional on the run that holds it, so a late attempt, a retried release or the reconciler can never undo
 * what another booking holds.
 */
export class MongoAllocationStore implements AllocationStore {
  private readonly poolView: PoolView;
  readonly pairs: PairHistory;

  constructor(
    private readonly collections: Pick<Collections, 'numbers' | 'claims' | 'leases' | 'pairs'> &
      Partial<Pick<Collections, 'pins'>>,
    /** `pairKeys`: the deployment's encryption keys, which key the sticky pairs' records (src/store/pairHistory.ts). */
    options: { poolView?: PoolView; pairKeys?: readonly EncryptionKey[] } = {},
  ) {
    this.poolView = options.poolView ?? new PoolView(collections);
    this.pairs = new PairHistory(collections, options.pairKeys);
  }

  lastNumberOfPair(first: E164, second: E164): Promise<E164 | null> {
    return this.pairs.lastNumber(first, second);
  }

  rememberPair(first: E164, second: E164, virtualNumber: E164, bookingId: string): Promise<void> {
    return this.pairs.remember(first, second, virtualNumber, bookingId);
  }

  async findLease(bookingId: string): Promise<RecordedLease | null> {
    const doc = await this.collections.leases.findOne({ _id: bookingId });
    return doc ? recorded(doc) : null;
  }

  async claimsOf(parties: readonly E164[]): Promise<HeldClaim[]> {
    // One indexed read per person, side by side (FerretDB pushes down an equality, not an $in), in one batch:
    // a merchant with a thousand open orders costs one round trip, not one per hundred of its claims.
    const perParty = await Promise.all(
      parties.map((party) =>
        this.collections.claims.find({ party }, { projection: HELD_CLAIM_FIELDS, batchSize: HOLDINGS_BATCH }).toArray(),
      ),
    );
    return perParty.flat().map(heldClaim);
  }

  /**
   * The claims any run of this booking holds, its PINs of the PIN set among them (for erasure, which refuses while
   * any remain: a PIN holding names the parties too).
   */
  async claimsOfBooking(bookingId: string): Promise<HeldClaim[]> {
    const [docs, pins] = await Promise.all([
      this.collections.claims.find({ bookingId }).toArray(),
      this.collections.pins?.find({ bookingId }).toArray() ?? [],
    ]);
    return [
      ...docs.map(heldClaim),
      ...pins.map((pin) => ({
        party: pin.parties[0]?.number ?? '',
        otherParty: pin.parties[1]?.number ?? '',
        virtualNumber: pin.virtualNumber,
        holder: holderOf(pin),
        settled: true,
      })),
    ];
  }

  async leastLoadedNumbers(query: {
    countryCode: string | null;
    exclude: E164[];
    limit: number;
  }): Promise<CandidateNumber[]> {
    const candidates = await this.poolView.leastLoaded(query);
    if (candidates.length > 0) return candidates;
    // A refusal must rest on the store, not on a view that may miss a number added a moment ago.
    await this.poolView.refresh();
    return this.poolView.leastLoaded(query);
  }

  async isAllocatable(virtualNumber: E164): Promise<boolean> {
    const doc = await this.collections.numbers.findOne({ _id: virtualNumber }, { projection: { status: 1, use: 1 } });
    if (doc?.status === 'active' && doc.use !== 'pin') return true;
    this.poolView.remove(virtualNumber);
    return false;
  }

  async claim(claim: {
    holder: Holder;
    party: Party;
    otherParty: Party;
    virtualNumber: E164;
    record?: boolean;
    targets?: Party[];
  }): Promise<ClaimResult> {
    const doc: ClaimDocument = {
      _id: claimId(claim.party.number, claim.virtualNumber),
      party: claim.party.number,
      role: claim.party.role,
      virtualNumber: claim.virtualNumber,
      bookingId: claim.holder.bookingId,
      run: claim.holder.run,
      runStartedAt: new Date(claim.holder.runStartedAt),
      otherParty: claim.otherParty.number,
      otherRole: claim.otherParty.role,
      settled: false,
      claimedAt: new Date(),
      ...(claim.record ? { record: true as const } : {}),
      ...(claim.targets ? { targets: claim.targets } : {}),
    };
    try {
      await this.collections.claims.insertOne(doc);
      return 'claimed';
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return this.classifyConflict(doc._id, claim.holder);
    }
  }

  async settleClaim(claim: { holder: Holder; party: E164; virtualNumber: E164 }): Promise<void> {
    await this.collections.claims.updateOne(
      { _id: claimId(claim.party, claim.virtualNumber), ...heldBy(claim.holder), settled: false },
      { $set: { settled: true } },
    );
  }

  async isHeldForGood(claim: HeldClaim): Promise<boolean> {
    const pair = await this.collections.claims.findOne(
      { _id: claimId(claim.otherParty, claim.virtualNumber) },
      { projection: { bookingId: 1, run: 1 } },
    );
    return pair !== null && pair.bookingId === claim.holder.bookingId && (pair.run ?? '') === claim.holder.run;
  }

  /**
   * The claim met another under the same key. A retried insert whose first try did land finds its own claim;
   * otherwise the holder's pair tells whether it is for good: both claims there means a booking holds the number
   * (however its allocation ended, even by a crash before it recorded anything more), one alone an allocation
   * under way, which may give it back.
   */
  private async classifyConflict(id: string, holder: Holder): Promise<ClaimResult> {
    const existing = await this.collections.claims.findOne(
      { _id: id },
      { projection: { bookingId: 1, run: 1, otherParty: 1, virtualNumber: 1 } },
    );
    // Gone already: an attempt that gave it back; worth another look, not a fact.
    if (!existing) return 'in_flight';
    if (existing.bookingId === holder.bookingId && isHeldBy(existing, holder)) return 'claimed';
    const pair = await this.collections.claims.findOne(
      { _id: claimId(existing.otherParty, existing.virtualNumber) },
      { projection: { bookingId: 1, run: 1 } },
    );
    return pair && pair.bookingId === existing.bookingId && (pair.run ?? '') === (existing.run ?? '')
      ? 'held'
      : 'in_flight';
  }

  async unclaim(claim: { holder: Holder; party: E164; virtualNumber: E164 }): Promise<void> {
    await this.collections.claims.deleteOne({
      _id: claimId(claim.party, claim.virtualNumber),
      ...heldBy(claim.holder),
    });
  }

  async recordLease(lease: Lease, holder: Holder, request: BookingRequest): Promise<RecordedLease> {
    const now = new Date();
    const doc: LeaseDocument = {
      _id: lease.bookingId,
      run: holder.run,
      runStartedAt: new Date(holder.runStartedAt),
      virtualNumber: lease.virtualNumber,
      parties: lease.parties,
      status: 'active',
      createdAt: now,
      expiresAt: new Date(now.getTime() + request.expiresInSeconds * 1000),
      ...(request.afterEnd ? { afterEnd: request.afterEnd } : {}),
      ...(request.reach ? { reach: request.reach } : {}),
    };
    try {
      const written = await this.collections.leases.updateOne(
        { _id: lease.bookingId },
        { $setOnInsert: doc },
        { upsert: true },
      );
      if (written.upsertedCount > 0) {
        this.poolView.adjust(lease.virtualNumber, +1);
        return recorded(doc);
      }
    } catch (error) {
      // Two upserts of one _id at once: one inserts, the other may fail on the key instead of matching.
      if (!isDuplicateKey(error)) throw error;
    }
    const existing = await this.collections.leases.findOne({ _id: lease.bookingId });
    if (!existing) throw new Error(`lease of booking ${lease.bookingId} vanished while it was recorded`);
    return recorded(existing);
  }

  async markCompleting(holder: Holder): Promise<void> {
    await this.collections.leases.updateOne(
      { _id: holder.bookingId, ...runOf(holder), status: 'active' },
      { $set: { status: 'completing' } },
    );
  }

  /**
   * A booking run gives its number back: the lease is marked released first (a late allocation attempt of the
   * same run then finds it so and takes nothing), then the claims go (calls stop routing), then the numbers are
   * wiped from the released lease. Each step is conditional on the run and idempotent, so a release interrupted
   * anywhere is finished by its retry, and a retry running beside a later booking of the same people touches only
   * what this run holds. The released lease stays as a marker until the reconciler removes it.
   */
  async release(holder: Holder): Promise<void> {
    const lease = await this.collections.leases.findOne({ _id: holder.bookingId });
    const ours = lease !== null && isHeldBy(lease, holder);
    if (lease && !ours) {
      const other = holderOf({ bookingId: lease._id, run: lease.run, runStartedAt: lease.runStartedAt });
      // A later run's lease is not ours to touch; an earlier run's is stale, and in the way of our marker.
      if (isEarlierRun(other, holder)) await this.releaseRun(other);
    }
    if (!ours) {
      await this.markReleased(holder);
    } else if (lease.status !== 'released') {
      const marked = await this.collections.leases.updateOne(
        { _id: holder.bookingId, ...runOf(holder), status: { $ne: 'released' } },
        { $set: { status: 'released', releasedAt: new Date() } },
      );
      if (marked.modifiedCount > 0) this.poolView.adjust(lease.virtualNumber, -1);
    }
    const named = ours ? (lease.parties ?? []) : [];
    await Promise.all(
      named.map((party) =>
        this.collections.claims.deleteOne({ _id: claimId(party.number, lease!.virtualNumber), ...heldBy(holder) }),
      ),
    );
    await this.deleteClaimsOfRun(holder);
    await this.collections.leases.updateOne(
      { _id: holder.bookingId, ...runOf(holder), status: 'released' },
      { $unset: { parties: '' } },
    );
  }

  /** Gives back everything an earlier or ended run holds, lease included (no marker: nobody will write for it). */
  async releaseRun(holder: Holder): Promise<void> {
    const lease = await this.collections.leases.findOne({ _id: holder.bookingId });
    const ours = lease !== null && isHeldBy(lease, holder);
    if (ours && lease.parties) {
      await Promise.all(
        lease.parties.map((party) =>
          this.collections.claims.deleteOne({ _id: claimId(party.number, lease.virtualNumber), ...heldBy(holder) }),
        ),
      );
    }
    await this.deleteClaimsOfRun(holder);
    if (ours) {
      const deleted = await this.collections.leases.deleteOne({ _id: holder.bookingId, ...runOf(holder) });
      if (deleted.deletedCount > 0 && lease.status !== 'released') this.poolView.adjust(lease.virtualNumber, -1);
    }
  }

  /** Claims of this run that no lease names: an interrupted allocation's, or a late attempt's. */
  private async deleteClaimsOfRun(holder: Holder): Promise<void> {
    await this.giveBackClaims(holder);
  }

  /** A released marker for a run that recorded no lease, so that none of its late attempts records one. */
  private async markReleased(holder: Holder): Promise<void> {
    const now = new Date();
    try {
      await this.collections.leases.updateOne(
        { _id: holder.bookingId },
        {
          $setOnInsert: {
            _id: holder.bookingId,
            run: holder.run,
            runStartedAt: new Date(holder.runStartedAt),
            virtualNumber: '',
            status: 'released',
            createdAt: now,
            releasedAt: now,
            expiresAt: now,
          },
        },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /**
   * Gives back the claims of a run, and the PINs it holds (a PIN-fallback booking's hold), leaving its lease (or
   * released marker) where it is. Returns how many. Every release and the reconciler come through here.
   */
  async giveBackClaims(holder: Holder): Promise<number> {
    const [rest, pins] = await Promise.all([
      this.collections.claims.find(heldBy(holder), { projection: { _id: 1 } }).toArray(),
      this.collections.pins?.find(heldBy(holder), { projection: { _id: 1 } }).toArray() ?? [],
    ]);
    const deleted = await Promise.all([
      ...rest.map((claim) => this.collections.claims.deleteOne({ _id: claim._id, ...heldBy(holder) })),
      ...pins.map((pin) => this.collections.pins!.deleteOne({ _id: pin._id, ...heldBy(holder) })),
    ]);
    return deleted.reduce((sum, result) => sum + result.deletedCount, 0);
  }
}
