import type { E164 } from '../domain/phoneNumbers';
import { maskPhoneNumber } from '../logging/redact';
import type { CallEventDocument, CallSessionDocument, Collections } from './database';
import { isDuplicateKey } from './numberPool';

export type StoredEvent = { stored: 'new' | 'duplicate'; event: CallEventDocument };
export type DeletedCallRecords = { callSessions: number; callEvents: number };

/** Call sessions and the status/summary events 8x8 sends about them. Party numbers are kept masked only. */
export class CallRecords {
  constructor(private readonly collections: Pick<Collections, 'callSessions' | 'callEvents'>) {}

  /** Links a session to its booking; the first record wins, so a repeated call action changes nothing. */
  async recordSession(session: {
    sessionId: string;
    bookingId: string | null;
    virtualNumber: E164;
    callerRole: string | null;
    caller: E164;
    startedAt: Date;
  }): Promise<void> {
    const doc: CallSessionDocument = {
      _id: session.sessionId,
      bookingId: session.bookingId,
      virtualNumber: session.virtualNumber,
      callerRole: session.callerRole,
      callerMasked: maskPhoneNumber(session.caller),
      startedAt: session.startedAt,
    };
    await this.collections.callSessions.updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true });
  }

  async findSession(sessionId: string): Promise<CallSessionDocument | null> {
    return this.collections.callSessions.findOne({ _id: sessionId });
  }

  /**
   * Stores an event under its natural key (8x8's eventId, or the session for a summary). A duplicate
   * delivery finds the stored one and changes nothing.
   */
  async storeEvent(event: Omit<CallEventDocument, 'delivered' | 'receivedAt'>): Promise<StoredEvent> {
    const doc: CallEventDocument = { ...event, delivered: false, receivedAt: new Date() };
    try {
      await this.collections.callEvents.insertOne(doc);
      return { stored: 'new', event: doc };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const existing = await this.collections.callEvents.findOne({ _id: event._id });
      return { stored: 'duplicate', event: existing ?? doc };
    }
  }

  async markDelivered(eventId: string): Promise<void> {
    await this.collections.callEvents.updateOne({ _id: eventId }, { $set: { delivered: true } });
  }

  async undeliveredEvents(limit: number): Promise<CallEventDocument[]> {
    return this.collections.callEvents.find({ delivered: false }).sort({ receivedAt: 1 }).limit(limit).toArray();
  }

  async eventsOfBooking(bookingId: string): Promise<CallEventDocument[]> {
    return this.collections.callEvents.find({ bookingId }).sort({ receivedAt: 1 }).toArray();
  }

  async sessionsOfBooking(bookingId: string): Promise<CallSessionDocument[]> {
    return this.collections.callSessions.find({ bookingId }).toArray();
  }

  /** Erases a booking's call records (its sessions and their events). */
  async deleteOfBooking(bookingId: string): Promise<DeletedCallRecords> {
    const [sessions, events] = await Promise.all([
      this.collections.callSessions.deleteMany({ bookingId }),
      this.collections.callEvents.deleteMany({ bookingId }),
    ]);
    return { callSessions: sessions.deletedCount, callEvents: events.deletedCount };
  }

  /**
   * Retention: deletes sessions that started, and events received, before `cutoff`. FerretDB has no TTL index,
   * so a schedule calls this (see workflows/retention.ts).
   */
  async deleteOlderThan(cutoff: Date): Promise<DeletedCallRecords> {
    const [sessions, events] = await Promise.all([
      this.collections.callSessions.deleteMany({ startedAt: { $lt: cutoff } }),
      this.collections.callEvents.deleteMany({ receivedAt: { $lt: cutoff } }),
    ]);
    return { callSessions: sessions.deletedCount, callEvents: events.deletedCount };
  }
}
