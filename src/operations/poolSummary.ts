import type { E164 } from '../domain/phoneNumbers';
import type { HoldingLease, PoolNumberState } from '../store/operationsView';

/**
 * The pool's headroom per country, as operators read it. A number has no booking limit of its own: it takes
 * a new booking as long as neither party holds it already (one claim per person and number). What runs out is
 * a person's room: someone who holds every allocatable number of a country in live bookings gets no further
 * booking there (no_number_available, or a number abroad when the booking allows it). So beside the numbers
 * (free, held, unavailable) the summary counts the people at capacity and the room the busiest one has left —
 * counts only: no number of a party leaves this function.
 */
export interface CountryHeadroom {
  /** ISO 3166-1 alpha-2, or null for numbers of no known country. */
  country: string | null;
  /** Allocatable numbers no live booking holds. */
  free: number;
  /** Allocatable numbers that live bookings hold (they still take bookings of other people). */
  held: number;
  /** Disabled or draining numbers: no new bookings; the bookings that hold them keep them. */
  unavailable: number;
  /** Live bookings (active or completing) on this country's numbers. */
  liveBookings: number;
  /** People who hold every allocatable number of the country: their next booking here is refused. */
  partiesAtCapacity: number;
  /** How many more bookings at once the busiest person can get here (allocatable numbers they do not hold). */
  busiestPartyRoom: number;
}

export interface BookingCounts {
  active: number;
  completing: number;
}

/** Per country, in country order (numbers of no known country last). */
export function poolHeadroom(numbers: readonly PoolNumberState[], leases: readonly HoldingLease[]): CountryHeadroom[] {
  const countryOf = new Map<E164, string | null>(numbers.map((n) => [n.number, n.countryCode]));
  const allocatable = new Set(numbers.filter((n) => n.status === 'active').map((n) => n.number));
  const liveByNumber = new Map<E164, number>();
  // person → country → allocatable numbers the person holds there
  const holdings = new Map<E164, Map<string | null, Set<E164>>>();
  for (const lease of leases) {
    liveByNumber.set(lease.virtualNumber, (liveByNumber.get(lease.virtualNumber) ?? 0) + 1);
    if (!allocatable.has(lease.virtualNumber)) continue;
    const country = countryOf.get(lease.virtualNumber) ?? null;
    for (const party of lease.parties) {
      const byCountry = holdings.get(party) ?? new Map<string | null, Set<E164>>();
      holdings.set(party, byCountry);
      const held = byCountry.get(country) ?? new Set<E164>();
      byCountry.set(country, held.add(lease.virtualNumber));
    }
  }

  const rows = new Map<string | null, CountryHeadroom>();
  const row = (country: string | null) => {
    let found = rows.get(country);
    if (!found) {
      found = { country, free: 0, held: 0, unavailable: 0, liveBookings: 0, partiesAtCapacity: 0, busiestPartyRoom: 0 };
      rows.set(country, found);
    }
    return found;
  };
  for (const number of numbers) {
    const entry = row(number.countryCode);
    const live = liveByNumber.get(number.number) ?? 0;
    entry.liveBookings += live;
    if (number.status !== 'active') entry.unavailable += 1;
    else if (live > 0) entry.held += 1;
    else entry.free += 1;
  }
  const busiest = new Map<string | null, number>();
  for (const byCountry of holdings.values()) {
    for (const [country, held] of byCountry) {
      busiest.set(country, Math.max(busiest.get(country) ?? 0, held.size));
      const entry = row(country);
      if (held.size >= entry.free + entry.held) entry.partiesAtCapacity += 1;
    }
  }
  for (const entry of rows.values()) {
    entry.busiestPartyRoom = Math.max(0, entry.free + entry.held - (busiest.get(entry.country) ?? 0));
  }
  return [...rows.values()].sort((a, b) =>
    a.country === b.country ? 0 : a.country === null ? 1 : b.country === null ? -1 : a.country.localeCompare(b.country),
  );
}

export function bookingCounts(leases: readonly HoldingLease[]): BookingCounts {
  return {
    active: leases.filter((lease) => lease.status === 'active').length,
    completing: leases.filter((lease) => lease.status === 'completing').length,
  };
}
