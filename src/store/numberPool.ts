import { MongoServerError } from 'mongodb';
import {
  nextStatus,
  planNumberSync,
  type NumberReport,
  type NumberSyncPlan,
  type StatusChange,
} from '../domain/numberSync';
import type { E164 } from '../domain/phoneNumbers';
import { HOLDING_STATUSES, type Collections, type NumberDocument, type NumberStatus, type NumberUse } from './database';

export interface PoolNumber {
  number: E164;
  countryCode: string | null;
  referenceId: string | null;
  status: NumberStatus;
  /** `pin`: one of the PIN set (PIN-fallback bookings share it); absent: an ordinary number. */
  use?: NumberUse;
  liveBookings: number;
  createdAt: string;
  updatedAt: string;
}

/** What a number sync did to the pool. */
export interface NumberSyncResult {
  added: E164[];
  /** Disabled, active again, or draining because 8x8 no longer lists the number. */
  changed: StatusChange[];
  /** Reported by 8x8 but not taken into the pool: not Active and healthy. */
  notAdded: { number: E164; reason: string }[];
  unchanged: number;
  /** Changed by someone else (an operator's drain, a concurrent sync) between reading and writing: left as found. */
  skipped: E164[];
}

export class NumberExists extends Error {
  override name = 'NumberExists';
}

const DUPLICATE_KEY = 11000;

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

function toPoolNumber(doc: NumberDocument, liveBookings: number): PoolNumber {
  return {
    number: doc._id,
    countryCode: doc.countryCode,
    referenceId: doc.referenceId,
    status: doc.status,
    ...(doc.use ? { use: doc.use } : {}),
    liveBookings,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

/** The pool of virtual numbers Maskline may give to bookings. */
export class NumberPool {
  constructor(private readonly collections: Pick<Collections, 'numbers' | 'leases'>) {}

  async add(input: {
    number: E164;
    countryCode: string | null;
    referenceId: string | null;
    use?: NumberUse;
  }): Promise<PoolNumber> {
    const now = new Date();
    const doc: NumberDocument = {
      _id: input.number,
      countryCode: input.countryCode,
      referenceId: input.referenceId,
      status: 'active',
      ...(input.use ? { use: input.use } : {}),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.collections.numbers.insertOne(doc);
    } catch (error) {
      if (isDuplicateKey(error)) throw new NumberExists(`${input.number} is already in the pool`);
      throw error;
    }
    return toPoolNumber(doc, 0);
  }

  /** The pool, with each number's live bookings counted from the pairings themselves. */
  async list(): Promise<PoolNumber[]> {
    const [docs, counts] = await Promise.all([
      this.collections.numbers.find({}).sort({ _id: 1 }).toArray(),
      this.liveBookingsByNumber(),
    ]);
    return docs.map((doc) => toPoolNumber(doc, counts.get(doc._id) ?? 0));
  }

  /**
   * One page of the pool, in number order, after `after` (the last number of the previous page). Status and
   * country are equality filters, which FerretDB pushes down to PostgreSQL; the page bound is a range it scans.
   */
  async page(options: {
    status?: NumberStatus;
    countryCode?: string;
    after?: E164;
    limit: number;
  }): Promise<{ numbers: PoolNumber[]; next: E164 | null }> {
    const filter = {
      ...(options.status ? { status: options.status } : {}),
      ...(options.countryCode ? { countryCode: options.countryCode } : {}),
      ...(options.after ? { _id: { $gt: options.after } } : {}),
    };
    const [docs, counts] = await Promise.all([
      this.collections.numbers
        .find(filter)
        .sort({ _id: 1 })
        .limit(options.limit + 1)
        .toArray(),
      this.liveBookingsByNumber(),
    ]);
    const page = docs.slice(0, options.limit);
    return {
      numbers: page.map((doc) => toPoolNumber(doc, counts.get(doc._id) ?? 0)),
      next: docs.length > options.limit ? (page.at(-1)?._id ?? null) : null,
    };
  }

  async liveBookingsByNumber(): Promise<Map<E164, number>> {
    const groups = await this.collections.leases
      .aggregate<{ _id: E164; count: number }>([
        { $match: { status: { $in: [...HOLDING_STATUSES] } } },
        { $group: { _id: '$virtualNumber', count: { $sum: 1 } } },
      ])
      .toArray();
    return new Map(groups.map((group) => [group._id, group.count]));
  }

  async get(number: E164): Promise<PoolNumber | null> {
    const doc = await this.collections.numbers.findOne({ _id: number });
    return doc ? toPoolNumber(doc, await this.liveBookingsOf(number)) : null;
  }

  private async liveBookingsOf(number: E164): Promise<number> {
    return this.collections.leases.countDocuments({ virtualNumber: number, status: { $in: [...HOLDING_STATUSES] } });
  }

  /**
   * Brings the pool in line with what 8x8 reported (rules in domain/numberSync). One document at a time, and
   * each change a plain `$set` of the status guarded by the status it was planned from: FerretDB 1.x applies
   * concurrent updates of one document as read-modify-write, so the narrower the write, the less it can undo.
   * A change that lost such a race is skipped and found again by the next sync.
   */
  async applyNumberReport(report: NumberReport): Promise<NumberSyncResult> {
    const plan = await this.planNumberReport(report);
    const result: NumberSyncResult = {
      added: [],
      changed: [],
      notAdded: plan.notAdded,
      unchanged: plan.unchanged,
      skipped: [],
    };
    for (const change of plan.changes) {
      if (await this.changeStatus(change)) result.changed.push(change);
      else result.skipped.push(change.number);
    }
    for (const entry of plan.additions) {
      try {
        await this.add({ number: entry.number, countryCode: entry.countryCode, referenceId: entry.referenceId });
        result.added.push(entry.number);
      } catch (error) {
        if (!(error instanceof NumberExists)) throw error;
        // Added meanwhile (by an operator, a concurrent sync or a VNU webhook): judge it as a pool number.
        const current = await this.collections.numbers.findOne({ _id: entry.number }, { projection: { status: 1 } });
        const next = current && nextStatus(current.status, entry, report.complete);
        if (!current || !next) {
          result.unchanged += 1;
          continue;
        }
        const change: StatusChange = { number: entry.number, from: current.status, ...next };
        if (await this.changeStatus(change)) result.changed.push(change);
        else result.skipped.push(entry.number);
      }
    }
    return result;
  }

  /** What applying the report would change now (a dry run of applyNumberReport). */
  async planNumberReport(report: NumberReport): Promise<NumberSyncPlan> {
    // In number order: neither MongoDB nor FerretDB on PostgreSQL keeps a natural order (an updated document moves).
    const pool = await this.collections.numbers
      .find({}, { projection: { status: 1 } })
      .sort({ _id: 1 })
      .toArray();
    return planNumberSync(
      pool.map((doc) => ({ number: doc._id, status: doc.status })),
      report,
    );
  }

  private async changeStatus(change: StatusChange): Promise<boolean> {
    const updated = await this.collections.numbers.updateOne(
      { _id: change.number, status: change.from },
      { $set: { status: change.to, updatedAt: new Date() } },
    );
    return updated.matchedCount === 1;
  }

  /**
   * An operator's way back for a drained or disabled number: allocatable again. The sync never undoes a drain; it
   * judges a restored number by 8x8's word like any other (one 8x8 no longer lists drains again at the next
   * complete listing). Returns null when the number is not in the pool.
   */
  async restore(number: E164): Promise<PoolNumber | null> {
    return this.setStatus(number, 'active');
  }

  /** Stops giving the number to new bookings; bookings that hold it keep it. Returns null when unknown. */
  async setStatus(number: E164, status: NumberStatus): Promise<PoolNumber | null> {
    const doc = await this.collections.numbers.findOneAndUpdate(
      { _id: number },
      { $set: { status, updatedAt: new Date() } },
      // No projection: FerretDB 1.x does not implement one on findAndModify.
      { returnDocument: 'after' },
    );
    return doc ? toPoolNumber(doc, await this.liveBookingsOf(number)) : null;
  }
}
