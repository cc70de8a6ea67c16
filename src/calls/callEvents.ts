import { setTimeout } from 'node:timers/promises';
import type { BookingClient } from '../bookings/client';
import { BookingError } from '../bookings/errors';
import type { CallRecordingEvent, CallStatusEvent, SessionSummaryEvent } from '../eightbyeight';
import type { Logger } from '../logging/logger';
import { callEventsRedelivered } from '../metrics/metrics';
import type { CallRecords, SessionLink } from '../store/callRecords';
import type { CallRoutes } from '../store/callRoutes';
import type { CallEventDocument } from '../store/database';
import type { CallEventSignal } from '../bookings/contract';

export interface SessionLookup {
  findSession(sessionId: string): Promise<SessionLink | null>;
}

export type RecordOutcome = 'delivered' | 'duplicate' | 'unmatched' | 'booking_ended' | 'pending';

interface BookingOfCall {
  bookingId: string | null;
  callerRole: string | null;
  /** Known when the session says (the caller of a larger booking chose): the booking cannot tell it otherwise. */
  calleeRole?: string;
}

/** How many stored events a redelivery reads at a time, and how many bookings it tells side by side. */
const REDELIVERY_BATCH = 200;
const REDELIVERY_BOOKINGS_AT_ONCE = 8;

/**
 * Records 8x8's call-status and session-summary events and tells the booking's workflow about them.
 *
 * Nothing 8x8 was answered 2xx for is lost: the event is stored first, and stays "pending" through every failure
 * but one, Temporal saying that the booking's workflow is not there (it has ended); a redelivery tries the pending
 * ones again. Within this process one booking's events go in the order received: one delivery at a time per
 * booking, and a new event for a booking that still has pending ones waits behind them. Across processes (several
 * HTTP servers) order is not ours to keep: the booking's merge of call events does not depend on it
 * (src/domain/callHistory.ts).
 */
export class CallEventRecorder {
  /** One delivery at a time per booking: the tail of each booking's queue. */
  private readonly lanes = new Map<string, Promise<unknown>>();
  /**
   * Bookings with events stored but not delivered, as far as this process knows, each with the stamp of the last
   * event that came in behind them (a redelivery that started after it may let the booking go).
   */
  private readonly backlog = new Map<string, number>();
  private stamps = 0;
  private redelivery: Promise<number> | null = null;
  private redeliverAgain = false;

  private readonly sessions: SessionLookup;
  private readonly recheckAfterMs: number;

  /**
   * `sessions` is where the call actions' session links are found (the SessionBatcher of the routing path, which
   * knows those not yet written). An event whose call no session or leg names is looked for once more after
   * `recheckAfterMs`: another server may have answered the call action and not yet written its session.
   */
  constructor(
    private readonly callRecords: CallRecords,
    private readonly routes: Pick<CallRoutes, 'findRoute'>,
    private readonly bookings: Pick<BookingClient, 'recordCallEvent'>,
    private readonly logger: Logger,
    options: { sessions?: SessionLookup; recheckAfterMs?: number } = {},
  ) {
    this.sessions = options.sessions ?? callRecords;
    this.recheckAfterMs = options.recheckAfterMs ?? 0;
  }

  async recordStatus(event: CallStatusEvent): Promise<RecordOutcome> {
    const booking = await this.bookingOfCall(event.sessionId, { source: event.source, destination: event.destination });
    return this.storeEvent(
      'status',
      event.eventId,
      event.sessionId,
      booking,
      { at: event.timestamp ?? new Date().toISOString(), status: event.callStatus },
      { callId: event.callId, callDirection: event.callDirection ?? null },
    );
  }

  async recordSummary(event: SessionSummaryEvent): Promise<RecordOutcome> {
    const inbound = event.callA;
    const booking = await this.bookingOfCall(event.sessionId, inbound ?? {});
    const duration = event.callB?.callDurationSeconds ?? inbound?.callDurationSeconds;
    // One summary per session: a repeated delivery lands on the same key.
    return this.storeEvent(
      'summary',
      event.sessionId,
      event.sessionId,
      booking,
      {
        at: event.endTime ?? new Date().toISOString(),
        status: event.sessionStatus,
        ...(event.startTime ? { startedAt: event.startTime } : {}),
        ...(event.endTime ? { endedAt: event.endTime } : {}),
        ...(duration !== undefined ? { durationSeconds: duration } : {}),
      },
      {
        lastAction: event.lastAction ?? null,
        callCount: event.callCount ?? null,
        errorCode: event.errorDetails?.errorCode ?? null,
      },
    );
  }

  /**
   * A recording of a session was uploaded: it belongs to the booking the session was routed for (8x8 names no
   * numbers in it). Stored under the recording's id, so a repeated notice changes nothing.
   */
  async recordRecording(event: CallRecordingEvent): Promise<RecordOutcome> {
    const booking = await this.bookingOfCall(event.sessionId, {});
    const recording = {
      recordingId: event.recordingId,
      status: event.status,
      fileUrl: event.fileUrl ?? null,
      durationSeconds: event.durationSeconds ?? null,
      startedAt: event.startedAt ?? null,
    };
    return this.storeEvent(
      'recording',
      `${event.sessionId}:${event.recordingId}`,
      event.sessionId,
      booking,
      { at: event.startedAt ?? new Date().toISOString(), status: event.status, recording },
      { subAccountId: event.subAccountId ?? null },
    );
  }

  /** Stores an event under `<kind>:<key>` with the signal its booking is to be told, and passes it on. */
  private storeEvent(
    kind: CallEventSignal['kind'],
    key: string,
    sessionId: string,
    booking: BookingOfCall,
    told: Omit<CallEventSignal, 'sessionId' | 'callerRole' | 'kind'>,
    detail: Record<string, unknown>,
  ): Promise<RecordOutcome> {
    const signal: CallEventSignal = {
      sessionId,
      callerRole: booking.callerRole,
      ...(booking.calleeRole !== undefined ? { calleeRole: booking.calleeRole } : {}),
      kind,
      ...told,
    };
    return this.store({
      _id: `${kind}:${key}`,
      kind,
      sessionId,
      bookingId: booking.bookingId,
      detail: { signal, ...detail },
    });
  }

  /**
   * Delivers the events stored and not yet delivered (Temporal was unreachable, or refused them), each booking's
   * in the order received; returns how many were settled. One redelivery at a time: a call while one is under way
   * joins it, and has it go round once more for what was stored meanwhile. An event that cannot be delivered holds
   * back the later events of its own booking only.
   */
  deliverPending(): Promise<number> {
    if (this.redelivery) {
      this.redeliverAgain = true;
      return this.redelivery;
    }
    const run = async () => {
      let settled = 0;
      do {
        this.redeliverAgain = false;
        settled += await this.redeliverOnce();
      } while (this.redeliverAgain);
      return settled;
    };
    this.redelivery = run().finally(() => {
      this.redelivery = null;
    });
    return this.redelivery;
  }

  private async redeliverOnce(): Promise<number> {
    const startedAt = this.stamps;
    const heldBack = new Map<string, unknown>();
    let settled = 0;
    const deliverBatch = async (batch: CallEventDocument[]) => {
      const byBooking = new Map<string, CallEventDocument[]>();
      for (const event of batch) {
        const bookingId = event.bookingId ?? '';
        // From now on, a new event for this booking waits behind these.
        if (bookingId && !this.backlog.has(bookingId)) this.backlog.set(bookingId, startedAt);
        byBooking.set(bookingId, [...(byBooking.get(bookingId) ?? []), event]);
      }
      await forEachAtMost(REDELIVERY_BOOKINGS_AT_ONCE, [...byBooking], async ([bookingId, events]) => {
        for (const event of events) {
          if (heldBack.has(bookingId)) return;
          const { outcome, failure } = await this.deliverInLane(event);
          if (outcome === 'pending') heldBack.set(bookingId, failure);
          else settled += 1;
          if (outcome === 'delivered') callEventsRedelivered.inc();
        }
      });
    };

    let batch: CallEventDocument[] = [];
    for await (const event of this.callRecords.undeliveredEvents(REDELIVERY_BATCH)) {
      batch.push(event);
      if (batch.length >= REDELIVERY_BATCH) {
        await deliverBatch(batch);
        batch = [];
      }
    }
    await deliverBatch(batch);

    // Every pending event has been read: a booking none of whose events is left, and behind which nothing came in
    // since this round began, is clear.
    for (const [bookingId, stamp] of this.backlog) {
      if (!heldBack.has(bookingId) && stamp <= startedAt) this.backlog.delete(bookingId);
    }
    if (heldBack.size > 0) {
      const [bookingId, failure] = heldBack.entries().next().value!;
      this.logger.warn(
        { err: failure, bookingsHeldBack: heldBack.size, settled, bookingId },
        'call events still pending; they are tried again at the next redelivery',
      );
    }
    return settled;
  }

  private async store(event: Omit<CallEventDocument, 'delivered' | 'receivedAt'>): Promise<RecordOutcome> {
    const { stored, event: document } = await this.callRecords.storeEvent(event);
    if (stored === 'duplicate' && document.delivered) return 'duplicate';
    const bookingId = document.bookingId;
    if (bookingId && this.backlog.has(bookingId)) {
      this.backlog.set(bookingId, ++this.stamps);
      return 'pending';
    }
    const { outcome, failure } = await this.deliverInLane(document, { unlessBacklogged: true });
    if (outcome === 'pending' && failure !== undefined) {
      this.logger.warn({ err: failure, eventId: document._id }, 'call event stored; delivery to the booking postponed');
    }
    return outcome;
  }

  /** Delivers one event after the booking's earlier deliveries in this process have finished. */
  private deliverInLane(
    event: CallEventDocument,
    options: { unlessBacklogged?: boolean } = {},
  ): Promise<{ outcome: Exclude<RecordOutcome, 'duplicate'>; failure?: unknown }> {
    const bookingId = event.bookingId;
    if (!bookingId) return this.deliver(event);
    const previous = this.lanes.get(bookingId) ?? Promise.resolve();
    const delivery = previous.then(async () => {
      // An earlier delivery in the lane may have failed meanwhile: then this one waits behind it too.
      if (options.unlessBacklogged && this.backlog.has(bookingId)) {
        this.backlog.set(bookingId, ++this.stamps);
        return { outcome: 'pending' as const };
      }
      const result = await this.deliver(event);
      if (result.outcome === 'pending') this.backlog.set(bookingId, ++this.stamps);
      return result;
    });
    const tail = delivery.catch(() => undefined);
    this.lanes.set(bookingId, tail);
    void tail.then(() => {
      if (this.lanes.get(bookingId) === tail) this.lanes.delete(bookingId);
    });
    return delivery;
  }

  private async deliver(
    event: CallEventDocument,
  ): Promise<{ outcome: Exclude<RecordOutcome, 'duplicate'>; failure?: unknown }> {
    if (!event.bookingId) {
      await this.callRecords.markDelivered(event._id);
      return { outcome: 'unmatched' };
    }
    const signal: CallEventSignal = {
      ...(event.detail.signal as CallEventSignal),
      eventId: event._id,
      receivedAt: event.receivedAt.toISOString(),
    };
    try {
      await this.bookings.recordCallEvent(event.bookingId, signal);
    } catch (error) {
      if (!(error instanceof BookingError && error.code === 'booking_not_found'))
        return { outcome: 'pending', failure: error };
      // The booking has ended: the event stays stored with it, and the webhook still succeeds.
      await this.callRecords.markDelivered(event._id);
      return { outcome: 'booking_ended' };
    }
    await this.callRecords.markDelivered(event._id);
    return { outcome: 'delivered' };
  }

  /**
   * The booking a call belongs to: from the session recorded when the call was routed, else from the leg's
   * numbers. On the inbound leg the caller dialled the VN; on the outbound leg the VN called the other party.
   */
  private async bookingOfCall(
    sessionId: string,
    leg: { source?: string | null; destination?: string | null },
  ): Promise<BookingOfCall> {
    const found = (await this.sessionBooking(sessionId)) ?? (await this.legBooking(leg));
    if (found || this.recheckAfterMs <= 0) return found ?? { bookingId: null, callerRole: null };
    await setTimeout(this.recheckAfterMs);
    return (await this.sessionBooking(sessionId)) ?? { bookingId: null, callerRole: null };
  }

  private async sessionBooking(sessionId: string): Promise<BookingOfCall | null> {
    const session = await this.sessions.findSession(sessionId);
    if (!session?.bookingId) return null;
    return {
      bookingId: session.bookingId,
      callerRole: session.callerRole,
      ...(session.calleeRole !== undefined ? { calleeRole: session.calleeRole } : {}),
    };
  }

  private async legBooking(leg: {
    source?: string | null;
    destination?: string | null;
  }): Promise<BookingOfCall | null> {
    if (!leg.source || !leg.destination) return null;
    const inbound = await this.routes.findRoute(leg.source, leg.destination);
    if (inbound) return { bookingId: inbound.bookingId, callerRole: inbound.callerRole };
    const outbound = await this.routes.findRoute(leg.destination, leg.source);
    // The VN called this party (the session's record was lost): its caller is the party it reaches, if just one;
    // a good guess for two parties, a guess for more.
    if (outbound) {
      const [only, ...more] = outbound.targets;
      return { bookingId: outbound.bookingId, callerRole: only && more.length === 0 ? only.role : null };
    }
    return null;
  }
}

/** Runs `task` over `items`, at most `limit` at once. */
async function forEachAtMost<T>(limit: number, items: T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
