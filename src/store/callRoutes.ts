import type { Route } from '../domain/callRouting';
import type { E164 } from '../domain/phoneNumbers';
import { claimId, type Collections } from './database';

/**
 * The call-routing lookup. A claim (`<party>|<VN>`) names whom its party may call, so the claims are also
 * the routing index: answering a call is one read by primary key, however large the store.
 */
export class CallRoutes {
  constructor(private readonly collections: Pick<Collections, 'claims'>) {}

  async findRoute(caller: E164, virtualNumber: E164): Promise<Route | null> {
    const doc = await this.collections.claims.findOne(
      { _id: claimId(caller, virtualNumber) },
      { projection: { bookingId: 1, role: 1, otherParty: 1, otherRole: 1, targets: 1, record: 1 } },
    );
    return doc
      ? {
          bookingId: doc.bookingId,
          callerRole: doc.role,
          targets: doc.targets ?? [{ role: doc.otherRole, number: doc.otherParty }],
          ...(doc.record ? { record: true } : {}),
        }
      : null;
  }
}
