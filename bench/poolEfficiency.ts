import { allocateVirtualNumber } from '../src/domain/allocation';
import type { BookingRequest } from '../src/domain/booking';
import type { E164 } from '../src/domain/phoneNumbers';
import { MemoryAllocationStore } from './memoryAllocationStore';
import { round } from './measure';
import { check, fmt, int, type Check } from './report';
import { courier, rider, virtualNumbers } from './seed';

export interface PoolEfficiencySettings {
  seed: number;
  hours: number;
  /** Bookings per minute at the busiest hour; the other hours follow DAY_SHAPE. */
  peakPerMinute: number;
  /** Booking duration: lognormal with this median (minutes) and log-space sigma. */
  medianMinutes: number;
  sigma: number;
  couriers: number;
  /** The most bookings one courier holds at once. */
  courierCapacity: number;
  /** Customers are drawn from a population this large, so some hold two bookings at once. */
  customers: number;
  /** Calls per booking: Poisson with this mean. */
  callsPerBooking: number;
  /** Pool sizes tried above the lower bound before giving up. */
  maxExtraNumbers: number;
}

export const POOL_EFFICIENCY_DEFAULTS: PoolEfficiencySettings = {
  seed: 20261125,
  hours: 24,
  peakPerMinute: 60,
  medianMinutes: 25,
  sigma: 0.6,
  couriers: 100,
  courierCapacity: 20,
  customers: 40_000,
  callsPerBooking: 1.5,
  maxExtraNumbers: 12,
};

/** Demand through a day, relative to the busiest hour: quiet nights, lunch and dinner peaks. */
const DAY_SHAPE = [
  0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.2, 0.35, 0.45, 0.5, 0.65, 0.95, 1.0, 0.8, 0.55, 0.5, 0.6, 0.8, 1.0, 0.95, 0.7,
  0.45, 0.25, 0.12,
];

interface Booking {
  id: string;
  start: number;
  end: number;
  customer: E164;
  courier: E164;
  calls: number;
}

/**
 * Benchmark 4: how many virtual numbers a day of bookings needs. A day of demand is drawn once (Poisson arrivals,
 * lognormal durations, couriers holding up to 20 bookings at once), then replayed in simulated time through the
 * real allocation rules (src/domain/allocation.ts) on an in-memory store, for pool sizes from the lower bound up.
 */
export async function poolEfficiencyBenchmark(settings: PoolEfficiencySettings, say: (line: string) => void) {
  const random = mulberry32(settings.seed);
  const day = drawDay(settings, random);
  const lowerBound = mostHeldAtOnce(day);
  say(`  a day of ${int(day.length)} bookings; the most any one party holds at once: ${lowerBound}`);

  const tried: { poolSize: number; refusals: number; refusalsWithAFreeNumber: number }[] = [];
  let needed: Awaited<ReturnType<typeof replay>> | null = null;
  for (let poolSize = lowerBound; poolSize <= lowerBound + settings.maxExtraNumbers; poolSize++) {
    const outcome = await replay(day, poolSize, mulberry32(settings.seed + poolSize));
    tried.push({ poolSize, refusals: outcome.refusals, refusalsWithAFreeNumber: outcome.refusalsWithAFreeNumber });
    say(
      `  pool ${poolSize}: ${outcome.refusals} refusals (${outcome.refusalsWithAFreeNumber} with a conflict-free number free)`,
    );
    if (outcome.refusals === 0) {
      needed = outcome;
      break;
    }
  }

  const wrongRefusals = tried.reduce((sum, t) => sum + t.refusalsWithAFreeNumber, 0);
  const name = '4 pool efficiency';
  const neededSize = needed?.poolSize ?? NaN;
  const checks: Check[] = [
    check(name, 'lower bound (most held by one party)', String(lowerBound), '', null),
    check(
      name,
      'smallest pool with no refusal',
      needed ? String(neededSize) : `> ${lowerBound + settings.maxExtraNumbers}`,
      `<= ${lowerBound + 2}`,
      needed !== null && neededSize <= lowerBound + 2,
    ),
    check(name, 'refusals while a free number existed', String(wrongRefusals), '0', wrongRefusals === 0),
    check(
      name,
      'calls per number, max / mean',
      needed ? fmt(needed.callSpread, 3) : 'n/a',
      '<= 1.25',
      needed !== null && needed.callSpread <= 1.25,
    ),
  ];
  return {
    settings,
    bookings: day.length,
    lowerBound,
    tried,
    neededPoolSize: needed?.poolSize ?? null,
    atNeededPool: needed && {
      calls: needed.calls,
      callsPerNumber: { max: needed.maxCalls, mean: round(needed.meanCalls, 1) },
      callSpread: round(needed.callSpread, 3),
      peakLivePerNumber: { max: needed.peakLiveMax, mean: round(needed.peakLiveMean, 1) },
    },
    checks,
  };
}

/** One day of bookings, drawn independently of the pool: the demand every pool size is tried against. */
function drawDay(settings: PoolEfficiencySettings, random: () => number): Booking[] {
  const minutes = settings.hours * 60;
  const couriersFreeAt: number[][] = Array.from({ length: settings.couriers }, () => []);
  const bookings: Booking[] = [];
  let t = 0;
  // Arrivals: a Poisson process at the peak rate, thinned to the hour's share (non-homogeneous Poisson).
  for (;;) {
    t += -Math.log(1 - random()) / settings.peakPerMinute;
    if (t >= minutes) break;
    if (random() > DAY_SHAPE[Math.floor(t / 60) % 24]!) continue;
    const duration = settings.medianMinutes * Math.exp(settings.sigma * gaussian(random));
    // The platform gives the order to a courier who has room (fewer than `courierCapacity` live bookings).
    const withRoom: number[] = [];
    for (let c = 0; c < settings.couriers; c++) {
      const live = (couriersFreeAt[c] = couriersFreeAt[c]!.filter((end) => end > t));
      if (live.length < settings.courierCapacity) withRoom.push(c);
    }
    if (withRoom.length === 0) continue; // no courier: the platform never books it
    const c = withRoom[Math.floor(random() * withRoom.length)]!;
    couriersFreeAt[c]!.push(t + duration);
    bookings.push({
      id: `day-${bookings.length}`,
      start: t,
      end: t + duration,
      customer: rider(Math.floor(random() * settings.customers)),
      courier: courier(c),
      calls: poisson(settings.callsPerBooking, random),
    });
  }
  return bookings;
}

/** The lower bound of any pool: the most bookings one party holds at the same time. */
function mostHeldAtOnce(day: readonly Booking[]): number {
  const events = day.flatMap((b) => [
    { t: b.start, delta: +1, parties: [b.customer, b.courier] },
    { t: b.end, delta: -1, parties: [b.customer, b.courier] },
  ]);
  events.sort((a, b) => a.t - b.t || a.delta - b.delta);
  const live = new Map<E164, number>();
  let most = 0;
  for (const event of events) {
    for (const party of event.parties) {
      const n = (live.get(party) ?? 0) + event.delta;
      live.set(party, n);
      most = Math.max(most, n);
    }
  }
  return most;
}

/** Replays the day in simulated time on a pool of `poolSize` numbers: arrivals allocate, ends release. */
async function replay(day: readonly Booking[], poolSize: number, random: () => number) {
  const pool = virtualNumbers(poolSize);
  const store = new MemoryAllocationStore(
    pool.map((number) => ({ number, countryCode: 'SG' })),
    random,
  );
  const events = day.flatMap((b) => [
    { t: b.start, kind: 'start' as const, booking: b },
    { t: b.end, kind: 'end' as const, booking: b },
  ]);
  // At equal times, ends first: a number given back at 12:00 may go to a booking made at 12:00.
  events.sort((a, b) => a.t - b.t || (a.kind === 'end' ? -1 : 1));

  const callsOn = new Map<E164, number>(pool.map((number) => [number, 0]));
  const liveOn = new Map<E164, number>(pool.map((number) => [number, 0]));
  const peakOn = new Map<E164, number>(pool.map((number) => [number, 0]));
  const numberOf = new Map<string, E164>();
  let refusals = 0;
  let refusalsWithAFreeNumber = 0;
  let calls = 0;
  for (const event of events) {
    const booking = event.booking;
    if (event.kind === 'end') {
      const number = numberOf.get(booking.id);
      if (!number) continue;
      await store.release(booking.id);
      liveOn.set(number, liveOn.get(number)! - 1);
      continue;
    }
    const request: BookingRequest = {
      bookingId: booking.id,
      parties: [
        { role: 'customer', number: booking.customer },
        { role: 'courier', number: booking.courier },
      ],
      expiresInSeconds: 4 * 3600,
      gracePeriodSeconds: 0,
      geoMatch: 'prefer',
    };
    const holder = { bookingId: booking.id, run: booking.id, runStartedAt: 0 };
    const outcome = await allocateVirtualNumber(request, holder, store, random);
    if (outcome.outcome === 'refused') {
      refusals += 1;
      if (store.freeNumberFor([booking.customer, booking.courier])) refusalsWithAFreeNumber += 1;
      continue;
    }
    const number = outcome.lease.virtualNumber;
    numberOf.set(booking.id, number);
    liveOn.set(number, liveOn.get(number)! + 1);
    peakOn.set(number, Math.max(peakOn.get(number)!, liveOn.get(number)!));
    callsOn.set(number, callsOn.get(number)! + booking.calls);
    calls += booking.calls;
  }
  const perNumber = [...callsOn.values()];
  const meanCalls = calls / poolSize;
  const maxCalls = Math.max(...perNumber);
  const peaks = [...peakOn.values()];
  return {
    poolSize,
    refusals,
    refusalsWithAFreeNumber,
    calls,
    maxCalls,
    meanCalls,
    callSpread: maxCalls / meanCalls,
    peakLiveMax: Math.max(...peaks),
    peakLiveMean: peaks.reduce((a, b) => a + b, 0) / poolSize,
  };
}

/** A small seeded PRNG, so that the day and its replay are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function poisson(mean: number, random: () => number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k += 1;
  return k;
}
