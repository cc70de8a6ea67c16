import type { E164 } from '../domain/phoneNumbers';
import type { Collections, LeaseStatus, NumberStatus } from './database';

/** A number of the pool as the operations summary reads it: no reference id, no dates. */
export interface PoolNumberState {
  number: E164;
  countryCode: string | null;
  status: NumberStatus;
}

/** A pairing that holds its number: which number, and whose (kept in memory only, to count people's room). */
export interface HoldingLease {
  virtualNumber: E164;
  status: LeaseStatus;
  parties: E164[];
}

/**
 * The store reads behind the operators' summary (src/operations/operationsSummary.ts). Each is one equality
 * filter FerretDB pushes down to PostgreSQL, or the whole pool, which is small: no `$in`, range or sort, which
 * FerretDB would evaluate over the whole collection.
 */
export class OperationsView {
  constructor(private readonly collections: Pick<Collections, 'numbers' | 'leases' | 'callEvents'>) {}

  async poolNumbers(): Promise<PoolNumberState[]> {
    const docs = await this.collections.numbers.find({}, { projection: { countryCode: 1, status: 1 } }).toArray();
    return docs.map((doc) => ({ number: doc._id, countryCode: doc.countryCode ?? null, status: doc.status }));
  }

  /** The pairings that hold their number: one equality read per holding status (HOLDING_STATUSES). */
  async holdingLeases(): Promise<HoldingLease[]> {
    const read = (status: 'active' | 'completing') =>
      this.collections.leases.find({ status }, { projection: { virtualNumber: 1, status: 1, parties: 1 } }).toArray();
    const [active, completing] = await Promise.all([read('active'), read('completing')]);
    return [...active, ...completing].map((doc) => ({
      virtualNumber: doc.virtualNumber,
      status: doc.status,
      parties: (doc.parties ?? []).map((party) => party.number),
    }));
  }

  /** Call events stored but not yet told to their booking (Temporal was unreachable, or delivery failed). */
  async pendingCallEvents(): Promise<number> {
    return this.collections.callEvents.countDocuments({ delivered: false });
  }
}
