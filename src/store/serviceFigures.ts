import { HOLDING_STATUSES, type Collections, type NumberStatus } from './database';

const NUMBER_STATUSES: readonly NumberStatus[] = ['active', 'draining', 'disabled'];

/**
 * The counts an operator watches (src/metrics), each an equality filter per status: FerretDB pushes those down to
 * PostgreSQL's indexes, where `$in` or a `$group` would read whole collections.
 */
export class ServiceFigureQueries {
  constructor(private readonly collections: Pick<Collections, 'numbers' | 'leases' | 'callEvents'>) {}

  /** Numbers of the pool by status and country ('' for a number whose country is unknown). */
  async poolNumbers(): Promise<{ status: string; country: string; count: number }[]> {
    const counts = new Map<string, { status: string; country: string; count: number }>();
    await Promise.all(
      NUMBER_STATUSES.map(async (status) => {
        const docs = this.collections.numbers.find({ status }, { projection: { _id: 0, countryCode: 1 } });
        for await (const { countryCode } of docs) {
          const country = countryCode ?? '';
          const key = `${status}|${country}`;
          const entry = counts.get(key) ?? { status, country, count: 0 };
          entry.count += 1;
          counts.set(key, entry);
        }
      }),
    );
    return [...counts.values()];
  }

  async liveBookings(): Promise<number> {
    const counts = await Promise.all(
      HOLDING_STATUSES.map((status) => this.collections.leases.countDocuments({ status })),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async pendingCallEvents(): Promise<number> {
    return this.collections.callEvents.countDocuments({ delivered: false });
  }
}
