import {
  sameRun,
  type AllocationStore,
  type CandidateNumber,
  type ClaimResult,
  type HeldClaim,
  type Holder,
  type Lease,
  type RecordedLease,
} from '../src/domain/allocation';
import type { BookingRequest, Party } from '../src/domain/booking';
import type { E164 } from '../src/domain/phoneNumbers';

interface Claim {
  party: E164;
  otherParty: E164;
  virtualNumber: E164;
  holder: Holder;
}

interface PoolEntry {
  countryCode: string | null;
  status: 'active' | 'disabled' | 'draining';
  liveBookings: number;
  bookingIds: Set<string>;
  /** Re-drawn on every change of the count, so that equal loads come out in random order. */
  tieBreak: number;
}

/**
 * The allocation store in memory, for simulations: the same contract as the MongoDB MongoAllocationStore — one claim per
 * (person, VN) keyed like the store's `_id`, candidates least loaded first with ties in random order, counts moved
 * once per booking — without the I/O.
 */
export class MemoryAllocationStore implements AllocationStore {
  readonly claims = new Map<string, Claim>();
  private readonly claimsOfParty = new Map<E164, Set<string>>();
  private readonly claimsOfBooking = new Map<string, Set<string>>();
  private readonly leases = new Map<string, RecordedLease>();
  readonly numbers = new Map<E164, PoolEntry>();
  /** Each pair's last `prefer-sticky` number, keyed by the two numbers in a fixed order. */
  private readonly pairs = new Map<string, E164>();

  constructor(
    pool: readonly { number: E164; countryCode: string | null }[],
    private readonly random: () => number,
  ) {
    for (const { number, countryCode } of pool) {
      this.numbers.set(number, {
        countryCode,
        status: 'active',
        liveBookings: 0,
        bookingIds: new Set(),
        tieBreak: random(),
      });
    }
  }

  async lastNumberOfPair(first: E164, second: E164): Promise<E164 | null> {
    return this.pairs.get([first, second].sort().join('|')) ?? null;
  }

  async rememberPair(first: E164, second: E164, virtualNumber: E164): Promise<void> {
    this.pairs.set([first, second].sort().join('|'), virtualNumber);
  }

  async findLease(bookingId: string): Promise<RecordedLease | null> {
    return this.leases.get(bookingId) ?? null;
  }

  async claimsOf(parties: readonly E164[]): Promise<HeldClaim[]> {
    return parties.flatMap((party) =>
      [...(this.claimsOfParty.get(party) ?? [])].map((id) => {
        const claim = this.claims.get(id)!;
        return {
          party: claim.party,
          otherParty: claim.otherParty,
          virtualNumber: claim.virtualNumber,
          holder: claim.holder,
          settled: this.claims.has(claimId(claim.otherParty, claim.virtualNumber)),
        };
      }),
    );
  }

  async leastLoadedNumbers(query: {
    countryCode: string | null;
    exclude: E164[];
    limit: number;
  }): Promise<CandidateNumber[]> {
    const excluded = new Set(query.exclude);
    return [...this.numbers]
      .filter(
        ([number, entry]) =>
          entry.status === 'active' &&
          (query.countryCode === null || entry.countryCode === query.countryCode) &&
          !excluded.has(number),
      )
      .sort(([, a], [, b]) => a.liveBookings - b.liveBookings || a.tieBreak - b.tieBreak)
      .slice(0, query.limit)
      .map(([number, entry]) => ({ number, liveBookings: entry.liveBookings }));
  }

  async isAllocatable(virtualNumber: E164): Promise<boolean> {
    return this.numbers.get(virtualNumber)?.status === 'active';
  }

  async claim(claim: { holder: Holder; party: Party; otherParty: Party; virtualNumber: E164 }): Promise<ClaimResult> {
    const id = claimId(claim.party.number, claim.virtualNumber);
    const existing = this.claims.get(id);
    if (existing) {
      if (sameRun(existing.holder, claim.holder)) return 'claimed';
      const pair = this.claims.get(claimId(existing.otherParty, claim.virtualNumber));
      return pair && sameRun(pair.holder, existing.holder) ? 'held' : 'in_flight';
    }
    this.claims.set(id, {
      party: claim.party.number,
      otherParty: claim.otherParty.number,
      virtualNumber: claim.virtualNumber,
      holder: claim.holder,
    });
    indexAdd(this.claimsOfParty, claim.party.number, id);
    indexAdd(this.claimsOfBooking, claim.holder.bookingId, id);
    return 'claimed';
  }

  async settleClaim(): Promise<void> {}

  async isHeldForGood(claim: HeldClaim): Promise<boolean> {
    const pair = this.claims.get(claimId(claim.otherParty, claim.virtualNumber));
    return pair !== undefined && sameRun(pair.holder, claim.holder);
  }

  async unclaim(claim: { holder: Holder; party: E164; virtualNumber: E164 }): Promise<void> {
    const id = claimId(claim.party, claim.virtualNumber);
    const existing = this.claims.get(id);
    if (existing && sameRun(existing.holder, claim.holder)) this.dropClaim(id);
  }

  async recordLease(lease: Lease, holder: Holder, _request: BookingRequest): Promise<RecordedLease> {
    const existing = this.leases.get(lease.bookingId);
    if (existing) return existing;
    const entry = this.numbers.get(lease.virtualNumber);
    if (entry && !entry.bookingIds.has(lease.bookingId)) {
      entry.bookingIds.add(lease.bookingId);
      entry.liveBookings += 1;
      entry.tieBreak = this.random();
    }
    const recorded: RecordedLease = { ...lease, holder, released: false };
    this.leases.set(lease.bookingId, recorded);
    return recorded;
  }

  async releaseRun(holder: Holder): Promise<void> {
    await this.release(holder.bookingId);
  }

  /** As MongoAllocationStore.release, without the released marker (simulations run no late attempts). */
  async release(bookingId: string): Promise<void> {
    const numbers = new Set<E164>();
    for (const id of [...(this.claimsOfBooking.get(bookingId) ?? [])]) {
      numbers.add(this.claims.get(id)!.virtualNumber);
      this.dropClaim(id);
    }
    const lease = this.leases.get(bookingId);
    if (lease) numbers.add(lease.virtualNumber);
    for (const number of numbers) {
      const entry = this.numbers.get(number);
      if (entry?.bookingIds.delete(bookingId)) {
        entry.liveBookings -= 1;
        entry.tieBreak = this.random();
      }
    }
    this.leases.delete(bookingId);
  }

  /** Brute force, for checking refusals: is there an allocatable number neither person holds? */
  freeNumberFor(parties: readonly E164[]): E164 | null {
    for (const [number, entry] of this.numbers) {
      if (entry.status !== 'active') continue;
      if (parties.every((party) => !this.claims.has(claimId(party, number)))) return number;
    }
    return null;
  }

  private dropClaim(id: string): void {
    const claim = this.claims.get(id);
    if (!claim) return;
    this.claims.delete(id);
    this.claimsOfParty.get(claim.party)?.delete(id);
    this.claimsOfBooking.get(claim.holder.bookingId)?.delete(id);
  }
}

function claimId(party: E164, virtualNumber: E164): string {
  return `${party}|${virtualNumber}`;
}

function indexAdd(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key) ?? new Set<string>();
  index.set(key, ids.add(id));
}
