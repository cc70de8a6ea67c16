import type { E164 } from '../domain/phoneNumbers';
import { maskPhoneNumber } from '../logging/redact';
import type { CallEventDocument, CallSessionDocument, Collections } from './database';
import { isDuplicateKey } from './numberPool';

export type StoredEvent = { stored: 'new' | 'duplicate'; event: CallEventDocument };
export type DeletedCallRecords = { callSessions: number; callEvents: number };

export interface CallSession {
  sessionId: string;
  bookingId: string | null;
  virtualNumber: E164;
  callerRole: string | null;
  caller: E164;
  startedAt: Date;
  calleeRole?: string;
}

function sessionDocument(session: CallSession): CallSessionDocument {
  return {
    _id: session.sessionId,
    bookingId: session.bookingId,
    virtualNumber: session.virtualNumber,
    callerRole: session.callerRole,
    callerMasked: maskPhoneNumber(session.caller),
    startedAt: session.startedAt,
    ...(session.calleeRole !== undefined ? { calleeRole: session.calleeRole } : {}),
  };
}

/** Call sessions and the status/summary events 8x8 sends about them. Party numbers are kept masked only. */
export class CallRecords {
  constructor(private readonly collections: Pick<Collections, 'callSessions' | 'callEvents'>) {}

  /** Links a session to its booking; the first record wins, so a repeated call action changes nothing. */
  async recordSession(session: CallSession): Promise<void> {
    const doc = sessionDocument(session);
    await this.collections.callSessions.updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true });
  }

  /** Records many sessions in one write; the first record of a session wins, as with recordSession. */
  async recordSessions(sessions: readonly CallSession[]): Promise<void> {
    if (sessions.length === 0) return;
    try {
      await this.collections.callSessions.insertMany(sessions.map(sessionDocument), { ordered: false });
    } catch (error) {
      // A session recorded before (8x8 repeated the call action) is a duplicate key: already there, as wanted.
      if (!isDuplicateKeyOnly(error)) throw error;
    }
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

  /** Every event its booking has not been told of yet, in the order received; read as it is iterated. */
  undeliveredEvents(batchSize: number): AsyncIterable<CallEventDocument> {
    return this.collections.callEvents.find({ delivered: false }).sort({ receivedAt: 1, _id: 1 }).batchSize(batchSize);
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
   * so a schedule calls this (see workflows/retention.ts). An event its booking has not been told of yet is kept
   * however old: it was acknowledged to 8x8, so it goes only once it has been delivered.
   */
  async deleteOlderThan(cutoff: Date): Promise<DeletedCallRecords> {
    const [sessions, events] = await Promise.all([
      this.collections.callSessions.deleteMany({ startedAt: { $lt: cutoff } }),
      this.collections.callEvents.deleteMany({ receivedAt: { $lt: cutoff }, delivered: true }),
    ]);
    return { callSessions: sessions.deletedCount, callEvents: events.deletedCount };
  }

  /** How many events retention keeps past `cutoff` because their bookings have not been told of them. */
  async countUndeliveredOlderThan(cutoff: Date): Promise<number> {
    return this.collections.callEvents.countDocuments({ receivedAt: { $lt: cutoff }, delivered: false });
  }
}

function isDuplicateKeyOnly(error: unknown): boolean {
  if (isDuplicateKey(error)) return true;
  const writeErrors = (error as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((writeError) => writeError.code === 11000);
}

/** What the call events need of a session: the booking it was routed for, and who called whom. */
export type SessionLink = Pick<CallSessionDocument, 'bookingId' | 'callerRole' | 'calleeRole'>;

/**
 * Batches the session records of the call-routing path: one write per batch rather than per call. The answer
 * never waits for it; on FerretDB an insert of a hundred documents costs about what two single upserts do. A
 * crash loses at most one batch interval of session links, and then call events still find their booking by
 * the legs' numbers while it is live.
 *
 * 8x8 sends a call's first status within milliseconds of our answer, before the batch is written: so a session
 * is found here, pending or being written, until its write has ended.
 */
export class SessionBatcher {
  private pending: CallSession[] = [];
  /** Every session not yet written (pending or in a write under way), by id; the first record wins. */
  private readonly unwritten = new Map<string, CallSession>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly records: Pick<CallRecords, 'recordSessions' | 'findSession'>,
    private readonly onError: (error: unknown, sessions: number) => void,
    private readonly options: { maxBatch: number; maxDelayMs: number } = { maxBatch: 200, maxDelayMs: 50 },
  ) {}

  /** How long after a call action its session may still be unwritten, with a write of a usual duration. */
  get writeWindowMs(): number {
    return this.options.maxDelayMs + 150;
  }

  async recordSession(session: CallSession): Promise<void> {
    if (!this.unwritten.has(session.sessionId)) this.unwritten.set(session.sessionId, session);
    this.pending.push(session);
    if (this.pending.length >= this.options.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.maxDelayMs);
  }

  /** The session as recorded: from this process's batches while unwritten, else from the store. */
  async findSession(sessionId: string): Promise<SessionLink | null> {
    const unwritten = this.unwritten.get(sessionId);
    if (unwritten) return sessionDocument(unwritten);
    return this.records.findSession(sessionId);
  }

  /** Writes what is pending; awaited at shutdown. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.flushing = this.flushing.then(() =>
        this.records
          .recordSessions(batch)
          .catch((error: unknown) => this.onError(error, batch.length))
          .finally(() => {
            for (const session of batch) {
              if (this.unwritten.get(session.sessionId) === session) this.unwritten.delete(session.sessionId);
            }
          }),
      );
    }
    return this.flushing;
  }
}
