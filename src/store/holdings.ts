import type { Holder } from '../domain/allocation';
import type { E164 } from '../domain/phoneNumbers';
import { claimId, heldBy, holderOf, type Collections } from './database';

/** What one booking run holds, as the reconciler reads it. */
export interface RunHoldings {
  holder: Holder;
  lease: { virtualNumber: E164; released: boolean; releasedAt: number | null } | null;
  claims: { party: E164; virtualNumber: E164; claimedAt: number }[];
  /** PINs of the PIN set the run holds (a PIN-fallback booking's hold, src/store/pinHoldings.ts). */
  pins?: { id: string; virtualNumber: E164; claimedAt: number }[];
}

/**
 * The pairing reconciliation's reading of the store: everything held, by booking run, and the claims that late
 * attempts of running runs left behind. What it gives back whole (a run's claims, a run) goes through the
 * allocation store's own release (allocationStore.ts).
 */
export class Holdings {
  constructor(
    private readonly collections: Pick<Collections, 'claims' | 'leases'> & Partial<Pick<Collections, 'pins'>>,
  ) {}

  /**
   * Everything held, by run: one streamed read of the leases and one of the claims (for the reconciler; on
   * MongoDB both walk the primary key in order, and neither loads a collection at once on the client side).
   */
  async byRun(progress: (count: number) => void = () => {}): Promise<RunHoldings[]> {
    const byRun = new Map<string, RunHoldings>();
    const entry = (holder: Holder) => {
      const key = `${holder.bookingId}\u0000${holder.run}`;
      let holdings = byRun.get(key);
      if (!holdings) byRun.set(key, (holdings = { holder, lease: null, claims: [] }));
      return holdings;
    };
    let read = 0;
    const leases = this.collections.leases.find(
      {},
      { projection: { run: 1, runStartedAt: 1, status: 1, releasedAt: 1, virtualNumber: 1 }, batchSize: 1000 },
    );
    for await (const doc of leases) {
      entry(holderOf({ bookingId: doc._id, run: doc.run, runStartedAt: doc.runStartedAt })).lease = {
        virtualNumber: doc.virtualNumber,
        released: doc.status === 'released',
        releasedAt: doc.releasedAt?.getTime() ?? null,
      };
      if (++read % 5000 === 0) progress(read);
    }
    const claims = this.collections.claims.find(
      {},
      {
        projection: { bookingId: 1, run: 1, runStartedAt: 1, party: 1, virtualNumber: 1, claimedAt: 1 },
        batchSize: 1000,
      },
    );
    for await (const doc of claims) {
      entry(holderOf(doc)).claims.push({
        party: doc.party,
        virtualNumber: doc.virtualNumber,
        claimedAt: doc.claimedAt?.getTime() ?? 0,
      });
      if (++read % 5000 === 0) progress(read);
    }
    const pins = this.collections.pins?.find(
      {},
      { projection: { bookingId: 1, run: 1, runStartedAt: 1, virtualNumber: 1, claimedAt: 1 }, batchSize: 1000 },
    );
    for await (const doc of pins ?? []) {
      const holdings = entry(holderOf(doc));
      (holdings.pins ??= []).push({
        id: doc._id,
        virtualNumber: doc.virtualNumber,
        claimedAt: doc.claimedAt.getTime(),
      });
      if (++read % 5000 === 0) progress(read);
    }
    return [...byRun.values()];
  }

  /**
   * A running run's claims that its lease does not name, claimed before `claimedBefore`: left by a late attempt
   * (on another number than the one recorded, or after the run released). Returns how many were given back.
   */
  async giveBackStrayClaims(holdings: RunHoldings, claimedBefore: number): Promise<number> {
    const { lease } = holdings;
    if (!lease) return 0; // still allocating: its claims are its own business
    const strays = holdings.claims.filter(
      (claim) => (lease.released || claim.virtualNumber !== lease.virtualNumber) && claim.claimedAt < claimedBefore,
    );
    const strayPins = (holdings.pins ?? []).filter(
      (pin) => (lease.released || pin.virtualNumber !== lease.virtualNumber) && pin.claimedAt < claimedBefore,
    );
    const deleted = await Promise.all([
      ...strays.map((claim) =>
        this.collections.claims.deleteOne({
          _id: claimId(claim.party, claim.virtualNumber),
          ...heldBy(holdings.holder),
        }),
      ),
      ...strayPins.map((pin) => this.collections.pins!.deleteOne({ _id: pin.id, ...heldBy(holdings.holder) })),
    ]);
    return deleted.reduce((sum, result) => sum + result.deletedCount, 0);
  }
}
