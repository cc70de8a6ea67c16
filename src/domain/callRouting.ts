import type { E164 } from './phoneNumbers';

/**
 * Where a call from (caller, dialled VN) goes: the booking that pairs the caller with the VN, and its other party.
 * One claim of the store holds it (src/store/callRoutes.ts).
 */
export interface Route {
  bookingId: string;
  callerRole: string;
  otherParty: E164;
  otherRole: string;
  /** The booking records its calls. */
  record?: boolean;
}

export type RoutingDecision =
  | { kind: 'connect'; bookingId: string; callerRole: string; destination: E164; callerId: E164; record: boolean }
  | { kind: 'reject'; reason: 'no_live_booking' | 'store_unavailable' };

/**
 * The call-routing rule of number masking: a caller who shares a live booking with the dialled VN is put
 * through to the other party, who sees the VN as caller ID (so a missed call can be returned through it);
 * anyone else is turned away.
 */
export function decideRoute(virtualNumber: E164, route: Route | null): RoutingDecision {
  if (!route) return { kind: 'reject', reason: 'no_live_booking' };
  return {
    kind: 'connect',
    bookingId: route.bookingId,
    callerRole: route.callerRole,
    destination: route.otherParty,
    callerId: virtualNumber,
    record: route.record === true,
  };
}
