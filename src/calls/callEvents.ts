import { BookingError, type BookingClient } from '../bookings/client';
import type { CallStatusEvent, SessionSummaryEvent } from '../eightbyeight';
import type { Logger } from '../logging/logger';
import type { CallRecords } from '../store/callRecords';
import type { CallEventDocument } from '../store/database';
import type { LeaseStore } from '../store/leases';
import type { CallEventSignal } from '../../workflows/messages';

export type RecordOutcome = 'delivered' | 'duplicate' | 'unmatched' | 'booking_ended' | 'pending';

interface BookingOfCall {
  bookingId: string | null;
  callerRole: string | null;
}

/**
 * Records 8x8's call-status and session-summary events and tells the booking's workflow about them.
 * The event is stored first, so nothing is lost when Temporal is down; duplicates change nothing.
 */
export class CallEventRecorder {
  constructor(
    private readonly callRecords: CallRecords,
    private readonly leases: Pick<LeaseStore, 'findRoute'>,
    private readonly bookings: Pick<BookingClient, 'recordCallEvent'>,
    private readonly logger: Logger,
  ) {}

  async recordStatus(event: CallStatusEvent): Promise<RecordOutcome> {
    const booking = await this.bookingOfCall(event.sessionId, { source: event.source, destination: event.destination });
    const at = event.timestamp ?? new Date().toISOString();
    const signal: CallEventSignal = {
      sessionId: event.sessionId,
      callerRole: booking.callerRole,
      kind: 'status',
      at,
      status: event.callStatus,
    };
    return this.store(
      {
        _id: `status:${event.eventId}`,
        kind: 'status',
        sessionId: event.sessionId,
        bookingId: booking.bookingId,
        detail: { signal, callId: event.callId, callDirection: event.callDirection ?? null },
      },
      signal,
    );
  }

  async recordSummary(event: SessionSummaryEvent): Promise<RecordOutcome> {
    const inbound = event.callA;
    const booking = await this.bookingOfCall(event.sessionId, inbound ?? {});
    const duration = event.callB?.callDurationSeconds ?? inbound?.callDurationSeconds;
    const signal: CallEventSignal = {
      sessionId: event.sessionId,
      callerRole: booking.callerRole,
      kind: 'summary',
      at: event.endTime ?? new Date().toISOString(),
      status: event.sessionStatus,
      ...(event.startTime ? { startedAt: event.startTime } : {}),
      ...(event.endTime ? { endedAt: event.endTime } : {}),
      ...(duration !== undefined ? { durationSeconds: duration } : {}),
    };
    return this.store(
      {
        // One summary per session: a repeated delivery lands on the same key.
        _id: `summary:${event.sessionId}`,
        kind: 'summary',
        sessionId: event.sessionId,
        bookingId: booking.bookingId,
        detail: {
          signal,
          lastAction: event.lastAction ?? null,
          callCount: event.callCount ?? null,
          errorCode: event.errorDetails?.errorCode ?? null,
        },
      },
      signal,
    );
  }

  /** Delivers events stored while Temporal could not be reached; returns how many were delivered. */
  async deliverPending(limit = 100): Promise<number> {
    let delivered = 0;
    for (const event of await this.callRecords.undeliveredEvents(limit)) {
      const outcome = await this.deliver(event, event.detail.signal as CallEventSignal);
      if (outcome === 'delivered' || outcome === 'booking_ended' || outcome === 'unmatched') delivered += 1;
      if (outcome === 'pending') break;
    }
    return delivered;
  }

  private async store(event: Omit<CallEventDocument, 'delivered' | 'receivedAt'>, signal: CallEventSignal) {
    const { stored, event: document } = await this.callRecords.storeEvent(event);
    if (stored === 'duplicate' && document.delivered) return 'duplicate';
    return this.deliver(document, signal);
  }

  private async deliver(event: CallEventDocument, signal: CallEventSignal): Promise<RecordOutcome> {
    if (!event.bookingId) {
      await this.callRecords.markDelivered(event._id);
      return 'unmatched';
    }
    try {
      await this.bookings.recordCallEvent(event.bookingId, signal);
      await this.callRecords.markDelivered(event._id);
      return 'delivered';
    } catch (error) {
      if (error instanceof BookingError && error.code === 'booking_not_found') {
        // The booking has ended: the event stays stored with it, and the webhook still succeeds.
        await this.callRecords.markDelivered(event._id);
        return 'booking_ended';
      }
      this.logger.warn({ err: error, eventId: event._id }, 'call event stored; delivery to the booking postponed');
      return 'pending';
    }
  }

  /**
   * The booking a call belongs to: from the session recorded when the call was routed, else from the leg's
   * numbers. On the inbound leg the caller dialled the VN; on the outbound leg the VN called the other party.
   */
  private async bookingOfCall(
    sessionId: string,
    leg: { source?: string | null; destination?: string | null },
  ): Promise<BookingOfCall> {
    const session = await this.callRecords.findSession(sessionId);
    if (session?.bookingId) return { bookingId: session.bookingId, callerRole: session.callerRole };
    if (!leg.source || !leg.destination) return { bookingId: null, callerRole: null };
    const inbound = await this.leases.findRoute(leg.source, leg.destination);
    if (inbound) return { bookingId: inbound.bookingId, callerRole: inbound.callerRole };
    const outbound = await this.leases.findRoute(leg.destination, leg.source);
    if (outbound) return { bookingId: outbound.bookingId, callerRole: outbound.otherRole };
    return { bookingId: null, callerRole: null };
  }
}
