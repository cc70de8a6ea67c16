import type { BookingRequest, Party } from './booking';
import { countryOfNumber, type E164 } from './phoneNumbers';

/**
 * Allocation: choosing a virtual number (VN) for a booking.
 *
 * The rules that make or break number masking:
 * - conflict-free: a VN is never held by the same person in two live bookings, or (caller, VN) would be
 *   ambiguous and calls would cross. The store enforces this with one unique claim per (person, VN), so it
 *   holds with any number of workers allocating at once;
 * - complete: a booking is refused only when no usable VN is free for both parties;
 * - load spread: among eligible numbers, the one with the fewest live bookings, ties broken at random;
 * - scales: each step is a read or write by primary key, or a pick from an in-memory view of the pool; the
 *   number of steps grows with the parties' own bookings, never with the pool.
 */

/** A number of the pool that may be given to a new booking, with its current load. */
export interface CandidateNumber {
  number: E164;
  liveBookings: number;
}

/** The pairing a booking holds while it is live. */
export interface Lease {
  bookingId: string;
  virtualNumber: E164;
  parties: [Party, Party];
}

/**
 * - claimed: the claim is this booking's (also when a retried insert finds its own earlier claim)
 * - held: the person holds this VN in another live booking: not a candidate for this booking
 * - in_flight: another booking's allocation is claiming it right now and may yet give it back
 */
export type ClaimResult = 'claimed' | 'held' | 'in_flight';

/** What allocation needs from the store; implemented on MongoDB in src/store and in memory for simulations. */
export interface AllocationStore {
  /** The lease a previous attempt of this booking completed, if any. */
  findLease(bookingId: string): Promise<Lease | null>;
  /** VNs some previous, interrupted attempt of this booking claimed, with the parties that claimed them. */
  findClaims(bookingId: string): Promise<{ party: E164; virtualNumber: E164 }[]>;
  /** Allocatable numbers, least loaded first (random order among equals), excluding some. */
  leastLoadedNumbers(query: { countryCode: string | null; exclude: E164[]; limit: number }): Promise<CandidateNumber[]>;
  /** Whether the number may still go to new bookings (it may have been drained since it was ranked). */
  isAllocatable(virtualNumber: E164): Promise<boolean>;
  /** Atomically claims (party, VN) for the booking: one insert under the unique key `party|VN`. */
  claim(claim: { bookingId: string; party: Party; otherParty: Party; virtualNumber: E164 }): Promise<ClaimResult>;
  /** Gives back one claim of this booking (no-op when it is not this booking's). */
  unclaim(claim: { bookingId: string; party: E164; virtualNumber: E164 }): Promise<void>;
  /** Records the finished pairing and settles its claims; idempotent per booking. */
  recordLease(lease: Lease, request: BookingRequest): Promise<void>;
}

export type AllocationOutcome =
  { outcome: 'allocated'; lease: Lease } | { outcome: 'refused'; reason: 'no_number_available' };

/** How many least-loaded candidates one query returns; a few are enough to absorb concurrent claims. */
const CANDIDATES_PER_QUERY = 8;
/**
 * How long a booking that finds nothing free waits for concurrent attempts of the same people to settle
 * before it believes the refusal: a claim that loses its pair is given back within milliseconds.
 */
const SETTLE_WINDOW_MS = 3_000;
/**
 * Claims lost to concurrent bookings of the same people before we give up this attempt. Each lost claim
 * removes a candidate for good, so the loop ends; the cap only bounds one activity attempt, which Temporal
 * retries.
 */
const MAX_LOST_CLAIMS = 64;

export interface AllocationLimits {
  settleWindowMs?: number;
  /**
   * Whether to look for claims an interrupted earlier attempt left behind (default true). Only a retry can
   * find any, and on a store without secondary indexes the look is a scan, so the first attempt skips it.
   */
  resumeInterrupted?: boolean;
  /**
   * Epoch ms after which this attempt starts no new claim. Temporal starts a retry when an attempt times out,
   * even if the attempt is still running; stopping short of the timeout keeps two attempts from claiming at once.
   */
  claimDeadline?: number;
}

export class AllocationContention extends Error {
  override name = 'AllocationContention';
}

/** The country a booking prefers its VN from: its parties' country, the first party's when they differ. */
export function preferredCountry(parties: readonly Party[]): string | null {
  for (const party of parties) {
    const country = countryOfNumber(party.number);
    if (country) return country;
  }
  return null;
}

/** The least-loaded candidate; ties are broken at random so concurrent bookings do not pile on one number. */
export function pickLeastLoaded(candidates: readonly CandidateNumber[], random: () => number = Math.random) {
  if (candidates.length === 0) return null;
  const lowest = Math.min(...candidates.map((c) => c.liveBookings));
  const tied = candidates.filter((c) => c.liveBookings === lowest);
  return tied[Math.floor(random() * tied.length)] ?? tied[0] ?? null;
}

/**
 * Allocates a VN for the booking, or refuses when none is free for both parties.
 * Idempotent: a retried attempt finds what an earlier one did and never takes a second number.
 */
export async function allocateVirtualNumber(
  request: BookingRequest,
  store: AllocationStore,
  random: () => number = Math.random,
  limits: AllocationLimits = {},
): Promise<AllocationOutcome> {
  const settleWindowMs = limits.settleWindowMs ?? SETTLE_WINDOW_MS;
  const existing = await store.findLease(request.bookingId);
  if (existing) return { outcome: 'allocated', lease: existing };

  if (limits.resumeInterrupted ?? true) {
    const resumed = await resumeInterruptedAttempt(request, store);
    if (resumed) return { outcome: 'allocated', lease: resumed };
  }

  const [first, second] = request.parties;
  const country = preferredCountry(request.parties);
  const settleBy = Date.now() + settleWindowMs;
  // What the claims have taught this attempt: VNs one of the two people holds in a live booking, and VNs that
  // a concurrent booking's allocation is claiming right now (which may come free again).
  let held = new Set<E164>();
  let lost = new Set<E164>();

  while (lost.size < MAX_LOST_CLAIMS) {
    const exclude = [...held, ...lost];
    let candidates = await store.leastLoadedNumbers({ countryCode: country, exclude, limit: CANDIDATES_PER_QUERY });
    if (candidates.length === 0 && country !== null && request.geoMatch === 'prefer') {
      candidates = await store.leastLoadedNumbers({ countryCode: null, exclude, limit: CANDIDATES_PER_QUERY });
    }
    const choice = pickLeastLoaded(candidates, random);
    if (!choice) {
      // Refuse only on settled facts: a number lost to an attempt still in flight may come free.
      if (lost.size === 0) return { outcome: 'refused', reason: 'no_number_available' };
      // Not settled in time (a crashed attempt's claims wait for its retry): fail this attempt for Temporal
      // to retry, rather than refuse a booking that might have had a number.
      if (Date.now() >= settleBy) throw new AllocationContention('claims of concurrent attempts did not settle');
      await sleep(20 + random() * 30);
      held = new Set();
      lost = new Set();
      continue;
    }

    const virtualNumber = choice.number;
    if (limits.claimDeadline !== undefined && Date.now() > limits.claimDeadline) {
      throw new AllocationContention('out of time for this attempt; a retry will resume it');
    }
    if (!(await store.isAllocatable(virtualNumber))) {
      held.add(virtualNumber);
      continue;
    }
    const firstClaim = await store.claim({
      bookingId: request.bookingId,
      party: first,
      otherParty: second,
      virtualNumber,
    });
    if (firstClaim !== 'claimed') {
      (firstClaim === 'held' ? held : lost).add(virtualNumber);
      continue;
    }
    const secondClaim = await store.claim({
      bookingId: request.bookingId,
      party: second,
      otherParty: first,
      virtualNumber,
    });
    if (secondClaim !== 'claimed') {
      await store.unclaim({ bookingId: request.bookingId, party: first.number, virtualNumber });
      (secondClaim === 'held' ? held : lost).add(virtualNumber);
      continue;
    }
    const lease: Lease = { bookingId: request.bookingId, virtualNumber, parties: request.parties };
    await store.recordLease(lease, request);
    return { outcome: 'allocated', lease };
  }
  throw new AllocationContention(`gave up after losing ${lost.size} claims to concurrent bookings`);
}

/**
 * An attempt that crashed after claiming left claims behind: finish it when both parties hold the same VN,
 * otherwise give the partial claims back and start afresh.
 */
async function resumeInterruptedAttempt(request: BookingRequest, store: AllocationStore): Promise<Lease | null> {
  const claims = await store.findClaims(request.bookingId);
  if (claims.length === 0) return null;
  const [first, second] = request.parties;
  const complete = claims.find(
    (claim) =>
      claim.party === first.number &&
      claims.some((other) => other.party === second.number && other.virtualNumber === claim.virtualNumber),
  );
  if (complete) {
    const lease: Lease = {
      bookingId: request.bookingId,
      virtualNumber: complete.virtualNumber,
      parties: request.parties,
    };
    await store.recordLease(lease, request);
    return lease;
  }
  for (const claim of claims) await store.unclaim({ bookingId: request.bookingId, ...claim });
  return null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
