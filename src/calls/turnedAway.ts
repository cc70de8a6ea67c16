import type { AfterEndRoute } from '../domain/outOfSession';
import type { CallActionEvent } from '../eightbyeight';
import type { Logger } from '../logging/logger';
import type { OutOfSessionOutcome } from './outOfSession';

/** The event as the booking's outbox takes it (src/events/messages.ts `LateEvent`, `call.turned_away` body). */
export interface TurnedAwayEvent {
  type: 'call.turned_away';
  data: {
    sessionId: string;
    caller: { role: string; number?: string };
    route: AfterEndRoute;
    handledAs: 'notice' | 'said' | 'forwarded';
    calledAt: string;
  };
  timestamp: string;
  onceKey: string;
}

/** Where the event goes: the booking's events (src/events/eventsClient.ts). */
export interface LateEventSink {
  emitLate(bookingId: string, late: TurnedAwayEvent): Promise<boolean>;
}

/**
 * The `call.turned_away` event of a late caller: a party of a recently ended booking who called its VN and was
 * not put through to the other party. Null for every other call.
 *
 * Why only then: one VN serves many bookings, so a caller with no route is known to concern a booking only when
 * the caller was a party of that booking on that very VN. A caller who is a party of a live booking on another VN
 * is not told to that booking: the VN they dialled is not its number (an old booking's, someone else's, a wrong
 * digit), and telling it would hand the platform a guess, and another number's traffic, as a fact of the booking.
 */
export function turnedAwayEvent(
  event: CallActionEvent,
  outcome: OutOfSessionOutcome,
  includeNumbers: boolean,
): { bookingId: string; late: TurnedAwayEvent } | null {
  const { pairing, plan } = outcome;
  if (!pairing) return null;
  if (plan.kind === 'connect' && plan.destination === pairing.otherParty) return null;
  const handledAs = plan.kind === 'connect' ? 'forwarded' : plan.kind === 'say' ? 'said' : 'notice';
  const calledAt = event.timestamp && !Number.isNaN(Date.parse(event.timestamp)) ? event.timestamp : null;
  const at = new Date(calledAt ?? Date.now()).toISOString();
  return {
    bookingId: pairing.bookingId,
    late: {
      type: 'call.turned_away',
      data: {
        sessionId: event.sessionId,
        caller: {
          role: pairing.callerRole,
          ...(includeNumbers && event.source !== null ? { number: event.source } : {}),
        },
        route: pairing.route,
        handledAs,
        calledAt: at,
      },
      timestamp: at,
      // 8x8 may repeat the call action: one event per call.
      onceKey: `call.turned_away:${event.sessionId}`,
    },
  };
}

/** Tells the booking's outbox, off the answer's path; Temporal being down costs the event, never the call. */
export function announceTurnedAway(events: LateEventSink, includeNumbers: boolean, logger: Logger) {
  return (event: CallActionEvent, outcome: OutOfSessionOutcome): void => {
    const turnedAway = turnedAwayEvent(event, outcome, includeNumbers);
    if (!turnedAway) return;
    events
      .emitLate(turnedAway.bookingId, turnedAway.late)
      .catch((error: unknown) =>
        logger.warn(
          { err: error, bookingId: turnedAway.bookingId, sessionId: event.sessionId },
          'call.turned_away not recorded',
        ),
      );
  };
}
