import type { E164 } from './phoneNumbers';

/** Who the caller is to the booking that pairs them with the dialled virtual number. */
export interface Pairing {
  bookingId: string;
  callerRole: string;
  otherParty: E164;
  otherRole: string;
}

export type RoutingDecision =
  | { kind: 'connect'; bookingId: string; callerRole: string; destination: E164; callerId: E164 }
  | { kind: 'reject'; reason: 'no_live_booking' | 'store_unavailable' };

/**
 * The call-routing rule of number masking: a caller who shares a live booking with the dialled VN is put
 * through to the other party, who sees the VN as caller ID (so a missed call can be returned through it);
 * anyone else is turned away.
 */
export function decideRoute(virtualNumber: E164, pairing: Pairing | null): RoutingDecision {
  if (!pairing) return { kind: 'reject', reason: 'no_live_booking' };
  return {
    kind: 'connect',
    bookingId: pairing.bookingId,
    callerRole: pairing.callerRole,
    destination: pairing.otherParty,
    callerId: virtualNumber,
  };
}
