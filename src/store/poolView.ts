import type { CandidateNumber } from '../domain/allocation';
import type { E164 } from '../domain/phoneNumbers';
import { HOLDING_STATUSES, type Collections } from './database';

interface Entry {
  countryCode: string | null;
  load: number;
}

/**
 * The allocatable part of the pool, held in memory and ranked by load, so that choosing a number costs the
 * same with 100 numbers as with 10,000: a store query ranking the pool would read all of it on a store
 * without indexes (FerretDB 1.x), and the pool changes slowly.
 *
 * The view is a hint, never the authority: it is refreshed from the store every few seconds and before any
 * refusal, its choice is checked against the number's current status, and conflict-freedom is the claims'
 * unique keys' job. Each worker process keeps its own view and counts its own allocations in it at once.
 */
export class PoolView {
  private entries = new Map<E164, Entry>();
  /** load → numbers at that load, per country ('' for all countries), in random order within a load. */
  private buckets = new Map<string, Map<number, Set<E164>>>();
  private loadedAt = 0;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly collections: Pick<Collections, 'numbers' | 'leases'>,
    private readonly maxAgeMs = 2_000,
  ) {}

  /** Up to `limit` allocatable numbers, least loaded first, skipping the excluded ones. */
  async leastLoaded(query: {
    countryCode: string | null;
    exclude: readonly E164[];
    limit: number;
  }): Promise<CandidateNumber[]> {
    await this.fresh();
    const excluded = new Set(query.exclude);
    const byLoad = this.buckets.get(query.countryCode ?? '');
    if (!byLoad) return [];
    const candidates: CandidateNumber[] = [];
    for (const load of [...byLoad.keys()].sort((a, b) => a - b)) {
      for (const number of byLoad.get(load) ?? []) {
        if (excluded.has(number)) continue;
        candidates.push({ number, liveBookings: load });
        if (candidates.length >= query.limit) return candidates;
      }
    }
    return candidates;
  }

  /** Counts a booking taken (+1) or given back (-1) on a number, in this process's view. */
  adjust(number: E164, delta: number): void {
    const entry = this.entries.get(number);
    if (!entry) return;
    this.place(number, entry, Math.max(0, entry.load + delta));
  }

  /** Drops a number the store says is no longer allocatable. */
  remove(number: E164): void {
    const entry = this.entries.get(number);
    if (!entry) return;
    for (const key of this.keysOf(entry)) this.buckets.get(key)?.get(entry.load)?.delete(number);
    this.entries.delete(number);
  }

  /** Reloads the view from the store (also what a refusal does first, so it never rests on a stale view). */
  async refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async fresh(): Promise<void> {
    const age = Date.now() - this.loadedAt;
    if (this.loadedAt === 0) await this.refresh();
    else if (age > this.maxAgeMs) void this.refresh().catch(() => undefined);
  }

  private async load(): Promise<void> {
    // A number's load is counted from the pairings themselves, so there is no counter to keep exact.
    const [docs, groups] = await Promise.all([
      this.collections.numbers.find({ status: 'active' }, { projection: { countryCode: 1, use: 1 } }).toArray(),
      this.collections.leases
        .aggregate<{ _id: E164; count: number }>([
          { $match: { status: { $in: [...HOLDING_STATUSES] } } },
          { $group: { _id: '$virtualNumber', count: { $sum: 1 } } },
        ])
        .toArray(),
    ]);
    const loads = new Map(groups.map((group) => [group._id, group.count]));
    // Shuffled, so that numbers of equal load come out in random order: ties are broken at random.
    for (let i = docs.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [docs[i], docs[j]] = [docs[j]!, docs[i]!];
    }
    this.entries = new Map();
    this.buckets = new Map();
    for (const doc of docs) {
      // The PIN set is for PIN-fallback bookings only (src/store/pinHoldings.ts).
      if (doc.use === 'pin') continue;
      const entry: Entry = { countryCode: doc.countryCode, load: -1 };
      this.entries.set(doc._id, entry);
      this.place(doc._id, entry, loads.get(doc._id) ?? 0);
    }
    this.loadedAt = Date.now();
  }

  private place(number: E164, entry: Entry, load: number): void {
    for (const key of this.keysOf(entry)) {
      const byLoad = this.buckets.get(key) ?? new Map<number, Set<E164>>();
      this.buckets.set(key, byLoad);
      const from = byLoad.get(entry.load);
      from?.delete(number);
      if (from?.size === 0) byLoad.delete(entry.load);
      const to = byLoad.get(load) ?? new Set<E164>();
      byLoad.set(load, to.add(number));
    }
    entry.load = load;
  }

  private keysOf(entry: Entry): string[] {
    return entry.countryCode ? ['', entry.countryCode] : [''];
  }
}
