import { setTimeout as sleep } from 'node:timers/promises';
import { targetsOf, type BookingRequest, type Parties, type Party } from './booking';
import { countryOfNumber, type E164 } from './phoneNumbers';

/**
 * Allocation: choosing a virtual number (VN) for a booking.
 *
 * The rules that make or break number masking:
 * - conflict-free: a VN is never held by the same person in two live bookings, or (caller, VN) would be
 *   ambiguous and calls would cross. The store enforces this with one unique claim per (person, VN), so it
 *   holds with any number of workers allocating at once;
 * - complete: a booking is refused only when no usable VN is free for all its parties (two, or up to five);
 * - load spread: among eligible numbers, the one with the fewest live bookings, ties broken at random; except that
 *   a booking asking for `prefer-sticky` first tries the number its two people had last time (one read by key);
 * - bounded: the parties' holdings are read once, up front, so the work per booking is a handful of store
 *   operations whether the parties hold one number or a thousand, and a pick from an in-memory view of the pool
 *   whatever its size.
 *
 * Every claim and lease names the booking run that holds it. A bookingId may be started again after a run failed
 * or was terminated; that new run must never use what the earlier one left behind (its claims pair other people,
 * or the same people on a number the new run never chose). And a run's own attempts may overlap (Temporal starts a
 * retry when an attempt times out, even if it is still running): the lease the store records first is the one
 * that counts, and an attempt that finds another writes nothing lasting.
 */

/** One run of a booking: what holds claims and leases. A bookingId started again is a new run. */
export interface Holder {
  bookingId: string;
  /** The first run id of the booking workflow's chain: the same across continue-as-new, new for a restart. */
  run: string;
  /** When that run started (epoch ms); a run of the same bookingId that started later supersedes it. */
  runStartedAt: number;
}

/** A number of the pool that may be given to a new booking, with its current load. */
export interface CandidateNumber {
  number: E164;
  liveBookings: number;
}

/** The pairing a booking holds while it is live. */
export interface Lease {
  bookingId: string;
  virtualNumber: E164;
  parties: Parties;
}

/** A lease as the store holds it: whose it is, and whether that run has given it back already. */
export interface RecordedLease extends Lease {
  holder: Holder;
  /** Given back by its run's release: the number is free again, and no attempt of that run may take it again. */
  released: boolean;
}

/** A person's claim on a VN, as the store holds it. */
export interface HeldClaim {
  party: E164;
  otherParty: E164;
  virtualNumber: E164;
  holder: Holder;
  /**
   * Known to be one of a complete pair (its booking holds the number for good). False may still be complete: the
   * attempt that claimed it may have stopped before saying so; `isHeldForGood` tells.
   */
  settled: boolean;
}

/**
 * - claimed: the claim is this run's (also when a retried insert finds its own earlier claim)
 * - held: the person holds this VN in another booking whose pair of claims is complete: not a candidate
 * - in_flight: another booking's allocation is claiming it right now and may yet give it back
 */
export type ClaimResult = 'claimed' | 'held' | 'in_flight';

/** What allocation needs from the store; implemented on MongoDB in src/store and in memory for simulations. */
export interface AllocationStore {
  /** The lease recorded for this bookingId, by whichever run, released or not. */
  findLease(bookingId: string): Promise<RecordedLease | null>;
  /** Every claim either person holds, in any booking (one indexed read per person). */
  claimsOf(parties: readonly E164[]): Promise<HeldClaim[]>;
  /** Allocatable numbers, least loaded first (random order among equals), excluding some. */
  leastLoadedNumbers(query: { countryCode: string | null; exclude: E164[]; limit: number }): Promise<CandidateNumber[]>;
  /** Whether the number may still go to new bookings (it may have been drained since it was ranked). */
  isAllocatable(virtualNumber: E164): Promise<boolean>;
  /**
   * Atomically claims (party, VN) for the run: one insert under the unique key `party|VN`. `record` rides on the
   * claim because the claim is what a call is routed by.
   */
  claim(claim: {
    holder: Holder;
    party: Party;
    otherParty: Party;
    virtualNumber: E164;
    record?: boolean;
    /** Whom the party may call, when that is not simply `otherParty` (see claimPlan). */
    targets?: Party[];
  }): Promise<ClaimResult>;
  /** Notes on a claim of this run that its pair is complete (a fast path for others' `isHeldForGood`). */
  settleClaim(claim: { holder: Holder; party: E164; virtualNumber: E164 }): Promise<void>;
  /** Gives back one claim, only if this run holds it: one conditional delete. */
  unclaim(claim: { holder: Holder; party: E164; virtualNumber: E164 }): Promise<void>;
  /** Whether the claim's pair is there too: its booking holds the number, whatever became of its attempt. */
  isHeldForGood(claim: HeldClaim): Promise<boolean>;
  /** The VN this pair of people had in their last `prefer-sticky` booking (one read by key), or null. */
  lastNumberOfPair(first: E164, second: E164): Promise<E164 | null>;
  /** Notes the pair's VN once their `prefer-sticky` booking holds it; repeating it changes nothing. */
  rememberPair(first: E164, second: E164, virtualNumber: E164, bookingId: string): Promise<void>;
  /** Records the lease unless one is recorded already; returns the lease the store holds either way. */
  recordLease(lease: Lease, holder: Holder, request: BookingRequest): Promise<RecordedLease>;
  /** Gives back everything a run holds: its lease's claims and its lease, each only if still that run's. */
  releaseRun(holder: Holder): Promise<void>;
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
   * Epoch ms after which this attempt starts no new claim. Temporal starts a retry when an attempt times out,
   * even if the attempt is still running; stopping short of the timeout keeps two attempts from claiming at once.
   */
  claimDeadline?: number;
  /** Called before each store step: throws when the attempt should stop (cancelled, timed out, superseded). */
  checkpoint?: () => void;
}

/** The attempt may not go on: the store's record is another run's, or it gave its number back already. */
export class AllocationFenced extends Error {
  override name = 'AllocationFenced';
}

export class AllocationContention extends Error {
  override name = 'AllocationContention';
}

export function sameRun(a: Holder, b: Holder): boolean {
  return a.bookingId === b.bookingId && a.run === b.run;
}

/** Whether `other` is an earlier run of the same booking, whose holdings a later run may give back. */
export function isEarlierRun(other: Holder, than: Holder): boolean {
  return other.bookingId === than.bookingId && other.run !== than.run && other.runStartedAt <= than.runStartedAt;
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
 * Allocates a VN for the booking run, or refuses when none is free for both parties.
 * Idempotent: a retried attempt finds what an earlier one did and never takes a second number.
 */
export async function allocateVirtualNumber(
  request: BookingRequest,
  holder: Holder,
  store: AllocationStore,
  random: () => number = Math.random,
  limits: AllocationLimits = {},
): Promise<AllocationOutcome> {
  const checkpoint = limits.checkpoint ?? (() => {});
  const sticky = request.numberSelection === 'prefer-sticky';
  // prefer-sticky is for two-party bookings (the request's validation says so).
  const [first, second] = request.parties;
  const allocated = async (lease: Lease): Promise<AllocationOutcome> => {
    if (sticky) await store.rememberPair(first.number, second.number, lease.virtualNumber, request.bookingId);
    return { outcome: 'allocated', lease };
  };
  const recorded = await recordedLeaseOf(holder, store);
  if (recorded) return allocated(recorded);
  const lastNumber = sticky ? await store.lastNumberOfPair(first.number, second.number) : null;
  const settleBy = Date.now() + (limits.settleWindowMs ?? SETTLE_WINDOW_MS);
  for (;;) {
    checkpoint();
    const holdings = await store.claimsOf(request.parties.map((party) => party.number));
    const resumed = await resumeOrGiveBack(request, holder, holdings, store);
    if (resumed) return allocated(resumed);

    const others = holdings.filter((claim) => claim.holder.bookingId !== holder.bookingId);
    const heldUpFront = new Set(others.map(vnOf));
    const preferred = lastNumber !== null && isStickyCandidate(request, lastNumber, heldUpFront) ? lastNumber : null;
    const attempt = await claimFreeNumber(request, holder, store, heldUpFront, random, limits, preferred);
    if (attempt.outcome === 'allocated') return allocated(attempt.lease);

    // Nothing is free for both. Refuse only on settled facts: a claim met in flight, or one of the holdings an
    // allocation was still making when it was read, may yet come free.
    const unsure = others.filter((claim) => !claim.settled);
    const inFlight = attempt.lostClaims > 0 || (await someInFlight(unsure, store));
    if (!inFlight) return { outcome: 'refused', reason: 'no_number_available' };
    // Not settled in time (a crashed attempt's claims wait for its retry): fail this attempt for Temporal
    // to retry, rather than refuse a booking that might have had a number.
    if (Date.now() >= settleBy) throw new AllocationContention('claims of concurrent attempts did not settle');
    await sleep(20 + random() * 30);
  }
}

/**
 * Whether a pair's last number is worth a claim: neither of them holds it in another booking (read up front), and
 * it is of their country when the booking insists on that.
 */
function isStickyCandidate(request: BookingRequest, virtualNumber: E164, heldUpFront: ReadonlySet<E164>): boolean {
  if (heldUpFront.has(virtualNumber)) return false;
  if (request.geoMatch !== 'strict') return true;
  const country = preferredCountry(request.parties);
  return country === null || countryOfNumber(virtualNumber) === country;
}

/**
 * Claims the least-loaded number free for both parties, skipping the ones they hold: the first claim that meets
 * another booking's learns that it is held (for good, or by an allocation under way) and moves on. A `preferred`
 * number (the pair's last, for `prefer-sticky`) is tried first, by the same claims; when it is not free for both,
 * the least-loaded one is taken as for any booking.
 */
async function claimFreeNumber(
  request: BookingRequest,
  holder: Holder,
  store: AllocationStore,
  heldUpFront: ReadonlySet<E164>,
  random: () => number,
  limits: AllocationLimits,
  preferred: E164 | null = null,
): Promise<{ outcome: 'allocated'; lease: Lease } | { outcome: 'nothing_free'; lostClaims: number }> {
  const checkpoint = limits.checkpoint ?? (() => {});
  const plan = claimPlan(request);
  const country = preferredCountry(request.parties);
  const held = new Set(heldUpFront);
  // VNs a concurrent booking's allocation is claiming right now (which may come free again).
  const lost = new Set<E164>();
  let next = preferred;
  while (lost.size < MAX_LOST_CLAIMS) {
    checkpoint();
    let virtualNumber: E164;
    if (next !== null) {
      virtualNumber = next;
      next = null;
    } else {
      const exclude = [...held, ...lost];
      let candidates = await store.leastLoadedNumbers({ countryCode: country, exclude, limit: CANDIDATES_PER_QUERY });
      if (candidates.length === 0 && country !== null && request.geoMatch === 'prefer') {
        candidates = await store.leastLoadedNumbers({ countryCode: null, exclude, limit: CANDIDATES_PER_QUERY });
      }
      const choice = pickLeastLoaded(candidates, random);
      if (!choice) return { outcome: 'nothing_free', lostClaims: lost.size };
      virtualNumber = choice.number;
    }

    if (limits.claimDeadline !== undefined && Date.now() > limits.claimDeadline) {
      throw new AllocationContention('out of time for this attempt; a retry will resume it');
    }
    if (!(await store.isAllocatable(virtualNumber))) {
      held.add(virtualNumber);
      continue;
    }
    const record = request.record === true;
    const refused = await claimAll(plan, holder, virtualNumber, record, store);
    if (refused !== null) {
      (refused === 'held' ? held : lost).add(virtualNumber);
      continue;
    }
    const lease = await settle(
      { bookingId: request.bookingId, virtualNumber, parties: request.parties },
      holder,
      request,
      store,
    );
    return { outcome: 'allocated', lease };
  }
  throw new AllocationContention(`gave up after losing ${lost.size} claims to concurrent bookings`);
}

/** One claim to make per party, in order: who the party is, its witness (`otherParty`), whom it may call. */
interface PlannedClaim {
  party: Party;
  otherParty: Party;
  targets?: Party[];
}

/**
 * The claims of a booking, in the order they are made. Two parties name each other, as every claim always has.
 * More are claimed in order and each names the last as its witness (the last names the first): the last claim
 * there means the whole set is, which is what `isHeldForGood` and a conflicting claim read. Whom a party may call
 * rides on its claim whenever it is not just the other one of two.
 */
export function claimPlan(request: Pick<BookingRequest, 'parties' | 'reach'>): PlannedClaim[] {
  const { parties } = request;
  const last = parties[parties.length - 1]!;
  const plain = parties.length === 2 && request.reach === undefined;
  return parties.map((party, index) => ({
    party,
    otherParty: index === parties.length - 1 ? parties[0]! : last,
    ...(plain ? {} : { targets: targetsOf(request, party.role) }),
  }));
}

/** Makes every claim of the plan on the number, or none: the claims made are given back at the first refusal. */
async function claimAll(
  plan: readonly PlannedClaim[],
  holder: Holder,
  virtualNumber: E164,
  record: boolean,
  store: AllocationStore,
): Promise<Exclude<ClaimResult, 'claimed'> | null> {
  for (const [index, planned] of plan.entries()) {
    const result = await store.claim({ holder, virtualNumber, record, ...planned });
    if (result === 'claimed') continue;
    // Last first: the witness of the earlier claims goes before them, so they never look complete on the way.
    for (const made of plan.slice(0, index).reverse()) {
      await store.unclaim({ holder, party: made.party.number, virtualNumber });
    }
    return result;
  }
  return null;
}

async function someInFlight(claims: readonly HeldClaim[], store: AllocationStore): Promise<boolean> {
  // An unfinished pair on a number that takes no new bookings anyway changes nothing.
  const pending = await Promise.all(
    claims.map(
      async (claim) => !(await store.isHeldForGood(claim)) && (await store.isAllocatable(claim.virtualNumber)),
    ),
  );
  return pending.some(Boolean);
}

/**
 * The lease the store already holds for this run (a retried attempt), or null. An earlier run's holdings are
 * given back first; a later run's, or this run's own released lease, mean this attempt is stale.
 */
async function recordedLeaseOf(holder: Holder, store: AllocationStore): Promise<Lease | null> {
  const recorded = await store.findLease(holder.bookingId);
  if (!recorded) return null;
  if (sameRun(recorded.holder, holder)) {
    if (recorded.released) throw new AllocationFenced(`booking ${holder.bookingId} has released its number already`);
    return plainLease(recorded);
  }
  if (!isEarlierRun(recorded.holder, holder)) {
    throw new AllocationFenced(`a later run of booking ${holder.bookingId} holds its lease`);
  }
  await store.releaseRun(recorded.holder);
  return null;
}

/**
 * Among the parties' holdings, this booking's own: an interrupted attempt of this run that claimed a complete pair
 * is finished; its partial claims, and any claim of an earlier run of this bookingId, are given back.
 */
async function resumeOrGiveBack(
  request: BookingRequest,
  holder: Holder,
  holdings: readonly HeldClaim[],
  store: AllocationStore,
): Promise<Lease | null> {
  const ours = holdings.filter((claim) => claim.holder.bookingId === holder.bookingId);
  if (ours.length === 0) return null;
  for (const claim of ours) {
    if (!sameRun(claim.holder, holder) && !isEarlierRun(claim.holder, holder)) {
      throw new AllocationFenced(`a later run of booking ${holder.bookingId} holds claims`);
    }
  }
  const mine = ours.filter((claim) => sameRun(claim.holder, holder));
  const complete = mine.find((claim) =>
    request.parties.every((party) =>
      mine.some((other) => other.party === party.number && other.virtualNumber === claim.virtualNumber),
    ),
  );
  const leftovers = ours.filter(
    (claim) => !sameRun(claim.holder, holder) || claim.virtualNumber !== complete?.virtualNumber,
  );
  await Promise.all(
    leftovers.map((claim) =>
      store.unclaim({ holder: claim.holder, party: claim.party, virtualNumber: claim.virtualNumber }),
    ),
  );
  if (!complete) return null;
  return settle(
    { bookingId: request.bookingId, virtualNumber: complete.virtualNumber, parties: request.parties },
    holder,
    request,
    store,
  );
}

/**
 * Records the lease; the store's record wins. When another attempt of this run recorded one first, its number is
 * the booking's and this attempt gives its own claims back. An earlier run's lineage is given back and the record
 * tried once more.
 */
async function settle(lease: Lease, holder: Holder, request: BookingRequest, store: AllocationStore): Promise<Lease> {
  for (let tries = 0; tries < 3; tries++) {
    const [recorded] = await Promise.all([
      store.recordLease(lease, holder, request),
      ...lease.parties.map((party) =>
        store.settleClaim({ holder, party: party.number, virtualNumber: lease.virtualNumber }),
      ),
    ]);
    if (sameRun(recorded.holder, holder) && !recorded.released) {
      if (recorded.virtualNumber !== lease.virtualNumber) await giveBackPair(lease, holder, store);
      return plainLease(recorded);
    }
    if (isEarlierRun(recorded.holder, holder)) {
      await store.releaseRun(recorded.holder);
      continue;
    }
    await giveBackPair(lease, holder, store);
    throw new AllocationFenced(
      recorded.released
        ? `booking ${holder.bookingId} has released its number already`
        : `a later run of booking ${holder.bookingId} holds its lease`,
    );
  }
  throw new AllocationContention(`the lease of booking ${holder.bookingId} kept changing under this attempt`);
}

async function giveBackPair(lease: Lease, holder: Holder, store: AllocationStore): Promise<void> {
  await Promise.all(
    lease.parties.map((party) => store.unclaim({ holder, party: party.number, virtualNumber: lease.virtualNumber })),
  );
}

function plainLease(recorded: RecordedLease): Lease {
  return { bookingId: recorded.bookingId, virtualNumber: recorded.virtualNumber, parties: recorded.parties };
}

function vnOf(claim: HeldClaim): E164 {
  return claim.virtualNumber;
}
