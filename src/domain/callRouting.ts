import type { Party } from './booking';
import type { E164 } from './phoneNumbers';

/**
 * Where a call from (caller, dialled VN) goes: the booking that pairs the caller with the VN, and whom the caller
 * may reach through it (the other party of a two-party booking; one or more of a larger one). One claim of the
 * store holds it (src/store/callRoutes.ts).
 */
export interface Route {
  bookingId: string;
  callerRole: string;
  /** In the order the booking's menu offers them. */
  targets: Party[];
  /** The booking records its calls. */
  record?: boolean;
}

export type RoutingDecision =
  | {
      kind: 'connect';
      bookingId: string;
      callerRole: string;
      destination: E164;
      /**
       * Whom the caller chose, for the call's record and events: set for a caller who had a choice (who else could
       * it be, the booking knows otherwise).
       */
      calleeRole?: string;
      callerId: E164;
      record: boolean;
    }
  | { kind: 'menu'; bookingId: string; callerRole: string; targets: Party[] }
  | { kind: 'reject'; reason: 'no_live_booking' | 'no_target' | 'store_unavailable' };

/**
 * The call-routing rule of number masking: a caller who shares a live booking with the dialled VN is put
 * through to the party they may reach, who sees the VN as caller ID (so a missed call can be returned through
 * it); a caller who may reach several is asked whom (src/domain/partyMenu.ts); anyone else is turned away.
 */
export function decideRoute(virtualNumber: E164, route: Route | null): RoutingDecision {
  if (!route) return { kind: 'reject', reason: 'no_live_booking' };
  const [only, ...more] = route.targets;
  if (!only) return { kind: 'reject', reason: 'no_target' };
  if (more.length > 0) {
    return { kind: 'menu', bookingId: route.bookingId, callerRole: route.callerRole, targets: route.targets };
  }
  return connectTo(virtualNumber, route, only);
}

/** Puts the caller of a route through to one of its targets. */
export function connectTo(
  virtualNumber: E164,
  route: Route,
  target: Party,
): Extract<RoutingDecision, { kind: 'connect' }> {
  return {
    kind: 'connect',
    bookingId: route.bookingId,
    callerRole: route.callerRole,
    destination: target.number,
    ...(route.targets.length > 1 ? { calleeRole: target.role } : {}),
    callerId: virtualNumber,
    record: route.record === true,
  };
}
