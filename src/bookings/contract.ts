/**
 * The booking workflow's messages, defined once for the workflow and for every client of it.
 * Deterministic code only: this module is bundled into the workflow sandbox.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { BookingRequest, BookingStatus, CallRecord, Party, Reach } from '../domain/booking';
import type { CallEvent } from '../domain/callHistory';
import type { BookingErrorCode } from './errors';

export function bookingWorkflowId(bookingId: string): string {
  return `booking-${bookingId}`;
}

/** Operators filter on these in the Temporal UI: `BookingStatus = "active"`. Never a party's number. */
export const BookingStatusAttribute = defineSearchAttributeKey('BookingStatus', SearchAttributeType.KEYWORD);
export const VirtualNumberAttribute = defineSearchAttributeKey('VirtualNumber', SearchAttributeType.KEYWORD);
/** The parties' roles (`rider`, `driver`): `GET /v1/bookings?partyRole=` filters on it. Roles only, never numbers. */
export const PartyRolesAttribute = defineSearchAttributeKey('BookingPartyRoles', SearchAttributeType.KEYWORD_LIST);

/** Why a booking was refused a number. */
export type RefusalReason = typeof BookingFailure.noNumber | typeof BookingFailure.allocationFailed;

/** The booking as the platform and operators see it. */
export interface BookingView {
  bookingId: string;
  status: BookingStatus;
  virtualNumber: string | null;
  /**
   * `pin`: the booking shares a number of the PIN set (PIN fallback, no number was free for both parties), and its
   * callers enter `pin` after dialling it. Absent for a booking with a number of its own.
   */
  mode?: 'pin';
  pin?: string;
  parties: Party[];
  /** Who may reach whom, when the booking said. */
  reach?: Reach;
  createdAt: string;
  expiresAt: string;
  gracePeriodSeconds: number;
  /** Set while completing: calls connect until then. */
  graceEndsAt: string | null;
  endedAt: string | null;
  /** Whether the virtual number has been given back to the pool. */
  numberReleased: boolean;
  refusal: RefusalReason | null;
  calls: CallRecord[];
}

export interface ConfirmBookingResult {
  /** True for the request that created the booking; false for a repeat of it. */
  created: boolean;
  booking: BookingView;
}

export type CloseAction = 'complete' | 'cancel';

/**
 * A call-status or session-summary event, reduced to what the booking keeps (roles, never numbers): the event
 * the booking's call history merges (src/domain/callHistory.ts), sent as the `callEvent` signal.
 */
export type CallEventSignal = CallEvent;

/** The failure types the workflow's refusals carry: booking error codes, answered as errors.ts says. */
export const BookingFailure = {
  conflict: 'booking_conflict',
  noNumber: 'no_number_available',
  allocationFailed: 'allocation_failed',
  closed: 'booking_closed',
} as const satisfies Record<string, BookingErrorCode>;

export const confirmBookingUpdate = defineUpdate<ConfirmBookingResult, [BookingRequest]>('confirmBooking');
export const closeBookingUpdate = defineUpdate<{ status: BookingStatus }, [CloseAction]>('closeBooking');
export const callEventSignal = defineSignal<[CallEventSignal]>('callEvent');
export const bookingStateQuery = defineQuery<BookingView>('bookingState');
