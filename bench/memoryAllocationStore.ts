import type { AllocationStore, CandidateNumber, ClaimResult, Lease } from '../src/domain/allocation';
import type { BookingRequest, Party } from '../src/domain/booking';
import type { E164 } from '../src/domain/phoneNumbers';

interface Claim {
  party: E164;
  virtualNumber: E164;
  bookingId: string;
  settled: boolean;
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
 * The allocation store in memory, for simulations: the same contract as the MongoDB LeaseStore — one claim per
 * (person, VN) keyed like the store's `_id`, candidates least loaded first with ties in random order, counts moved
 * once per booking — without the I/O.
 */
export class MemoryAllocationStore implements AllocationStore {
  readonly claims = new Map<string, Claim>();
  private readonly claimsOfParty = new Map<E164, Set<string>>();
  private readonly claimsOfBooking = new Map<string, Set<string>>();
  private readonly leases = new Map<string, Lease>();
  readonly numbers = new Map<E164, PoolEntry>();

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

  async findLease(bookingId: string): Promise<Lease | null> {
    return this.leases.get(bookingId) ?? null;
  }

  async findClaims(bookingId: string) {
    return [...(this.claimsOfBooking.get(bookingId) ?? [])].map((id) => {
      const claim = this.claims.get(id)!;
      return { party: claim.party, virtualNumber: claim.virtualNumber };
    });
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

  async claim(claim: {
    bookingId: string;
    party: Party;
    otherParty: Party;
    virtualNumber: E164;
  }): Promise<ClaimResult> {
    const id = claimId(claim.party.number, claim.virtualNumber);
    const holder = this.claims.get(id);
    if (holder) {
      if (holder.bookingId === claim.bookingId) return 'claimed';
      return holder.settled ? 'held' : 'in_flight';
    }
    this.claims.set(id, {
      party: claim.party.number,
      virtualNumber: claim.virtualNumber,
      bookingId: claim.bookingId,
      settled: false,
    });
    indexAdd(this.claimsOfParty, claim.party.number, id);
    indexAdd(this.claimsOfBooking, claim.bookingId, id);
    return 'claimed';
  }

  async unclaim(claim: { bookingId: string; party: E164; virtualNumber: E164 }): Promise<void> {
    const id = claimId(claim.party, claim.virtualNumber);
    if (this.claims.get(id)?.bookingId === claim.bookingId) this.dropClaim(id);
  }

  async recordLease(lease: Lease, _request: BookingRequest): Promise<void> {
    const entry = this.numbers.get(lease.virtualNumber);
    if (entry && !entry.bookingIds.has(lease.bookingId)) {
      entry.bookingIds.add(lease.bookingId);
      entry.liveBookings += 1;
      entry.tieBreak = this.random();
    }
    if (!this.leases.has(lease.bookingId)) this.leases.set(lease.bookingId, lease);
    for (const id of this.claimsOfBooking.get(lease.bookingId) ?? []) this.claims.get(id)!.settled = true;
  }

  /** As LeaseStore.release: claims, then the count, then the pairing. */
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
    this.claimsOfBooking.get(claim.bookingId)?.delete(id);
  }
}

function claimId(party: E164, virtualNumber: E164): string {
  return `${party}|${virtualNumber}`;
}

function indexAdd(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key) ?? new Set<string>();
  index.set(key, ids.add(id));
}
