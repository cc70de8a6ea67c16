/**
 * What the booking platform is told of a booking: the events its workflow emits, and what became of each delivery.
 * Plain types and functions only: the workflow sandbox imports this module.
 */

export const BOOKING_EVENT_TYPES = [
  'booking.active',
  'booking.refused',
  'booking.completing',
  'booking.completed',
  'booking.cancelled',
  'booking.expired',
  'call.connected',
  'call.ended',
  'call.turned_away',
  'call.recording_available',
] as const;

export type BookingEventType = (typeof BOOKING_EVENT_TYPES)[number];

/** A party as events name it: by role; the number only where the deployment turns that on. */
export interface EventParty {
  role: string;
  number?: string;
}

/** How a call ended, from 8x8's session summary. */
export type CallOutcome = 'completed' | 'no_answer' | 'busy' | 'cancelled' | 'failed';

export interface BookingEventBodies {
  'booking.active': { virtualNumber: string; expiresAt: string; parties: EventParty[] };
  'booking.refused': { reason: string };
  'booking.completing': { graceEndsAt: string };
  'booking.completed': Record<string, never>;
  'booking.cancelled': Record<string, never>;
  'booking.expired': { expiredAt: string };
  'call.connected': { sessionId: string; caller: EventParty | null; callee: EventParty | null; connectedAt: string };
  'call.ended': {
    sessionId: string;
    caller: EventParty | null;
    callee: EventParty | null;
    outcome: CallOutcome;
    /** 8x8's own word for it (`COMPLETED`, `NO_ANSWER`, `BUSY`, `CANCELED`, `FAILED`, `ERROR`, ...). */
    sessionStatus: string;
    startedAt: string | null;
    endedAt: string | null;
    durationSeconds: number | null;
  };
  /**
   * A party of the booking called its VN after it ended (within MASKLINE_ENDED_BOOKING_WINDOW) and was not put
   * through to the other party: the only case where a caller with no route is known to concern a booking.
   */
  'call.turned_away': {
    sessionId: string;
    caller: EventParty;
    /** The booking's route for late callers. */
    route: 'other_party' | 'support' | 'ask' | 'notice';
    /** What the caller got: the notice, the platform's words, or a call to another number (support, or ask's). */
    handledAs: 'notice' | 'said' | 'forwarded';
    calledAt: string;
  };
  'call.recording_available': {
    sessionId: string;
    caller: EventParty | null;
    callee: EventParty | null;
    /** 8x8's id of the recording. */
    recordingId: string;
    /** 8x8's word for it, e.g. `completed`. */
    status: string;
    /** Where 8x8 put the file in the account's recording store, when it said. */
    fileUrl: string | null;
    durationSeconds: number | null;
    startedAt: string | null;
  };
}

/** One event, as it is signed and posted (the Standard Webhooks payload shape: type, timestamp, data). */
export type BookingEvent = {
  [T in BookingEventType]: {
    /** Unique and stable: a redelivery carries the same id (the `webhook-id` header), so receivers can dedupe. */
    id: string;
    type: T;
    bookingId: string;
    /** When it happened (ISO 8601). */
    timestamp: string;
    data: BookingEventBodies[T];
  };
}[BookingEventType];

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'not_configured';

/** What became of one event's delivery. */
export interface EventDelivery {
  status: DeliveryStatus;
  /** Attempts made by the delivery that settled it (retries included); 0 while none has settled. */
  attempts: number;
  /** The receiver's HTTP status of the last settled attempt, when it answered. */
  responseStatus: number | null;
  /** Why the delivery failed, when it did (never the receiver's body). */
  error: string | null;
  settledAt: string | null;
  /** Redeliveries asked for so far. */
  redeliveries: number;
}

export interface BookingEventRecord {
  event: BookingEvent;
  delivery: EventDelivery;
}

/** Where a booking's events go and how they read; fixed when the booking is created. */
export interface EventStream {
  bookingId: string;
  /** The booking's own receiver; otherwise the deployment's (MASKLINE_EVENTS_URL). */
  callbackUrl: string | null;
  /** False: no receiver was configured when the booking was created; events are recorded, not posted. */
  deliver?: boolean;
}

/** 8x8's session status, in the few words the platform acts on. */
export function callOutcomeOf(sessionStatus: string): CallOutcome {
  switch (sessionStatus.toUpperCase().replace(/ /g, '_')) {
    case 'COMPLETED':
      return 'completed';
    case 'NO_ANSWER':
      return 'no_answer';
    case 'BUSY':
      return 'busy';
    case 'CANCELED':
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

export function pendingDelivery(redeliveries = 0): EventDelivery {
  return { status: 'pending', attempts: 0, responseStatus: null, error: null, settledAt: null, redeliveries };
}
