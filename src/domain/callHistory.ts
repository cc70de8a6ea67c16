import type { CallRecord, CallRecording } from './booking';

// A booking's calls, merged from 8x8's call events. 8x8 sends an event at least once and in no particular order,
// and Maskline may pass one on late (kept while Temporal was down, by any of several HTTP servers). So the merge
// is commutative and idempotent: what a booking shows depends on which events it has been told of, never on the
// order they came in. Plain data and plain functions: the workflow calls them, and they are tested alone.

/** A call-status, session-summary or recording event as the booking is told of it (roles, never numbers). */
export interface CallEvent {
  sessionId: string;
  callerRole: string | null;
  /** Whom the caller chose, in a booking of several parties; otherwise the booking knows (the other one). */
  calleeRole?: string;
  kind: 'status' | 'summary' | 'recording';
  /**
   * A status: 8x8's timestamp (or, when 8x8 gave none, when we received it). A summary: the session's end. A
   * recording: when it started, else when we received it.
   */
  at: string;
  /** The leg's status (CALL_CONNECTED, ...), the session's outcome (COMPLETED, NO_ANSWER, ...), a recording's. */
  status: string;
  /** A recording event's recording. */
  recording?: CallRecording;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  /** The stored event's key (`status:<8x8 eventId>`, `summary:<sessionId>`): passed on twice, it is the same. */
  eventId?: string;
  /** When Maskline received it (ISO 8601): orders events that 8x8 stamped with the same time. */
  receivedAt?: string;
}

/** What the history keeps of one call: the few events its record is made of. */
export interface CallEntry {
  sessionId: string;
  /** The newest status event: the call's status until the summary comes. */
  newestStatus: CallEvent | null;
  /** The session's summary, whose outcome is final (8x8 sends one per session). */
  summary: CallEvent | null;
  /** The earliest event: when the call started, unless the summary says. */
  earliest: CallEvent;
  /** The earliest event that names the caller's role. */
  earliestWithRole: CallEvent | null;
  /**
   * The newest event of each recording, by recording id in id order. Absent in entries kept before recordings
   * existed (a booking carried over from such a run).
   */
  recordings?: CallEvent[];
}

/** The calls of one booking, by session id. */
export type CallHistory = Map<string, CallEntry>;

/** The call after one more event; `entry` is what was known of the call before (nothing, for its first event). */
export function mergeCallEvent(entry: CallEntry | undefined, event: CallEvent): CallEntry {
  const withRole = event.callerRole === null ? null : event;
  if (!entry) {
    return {
      sessionId: event.sessionId,
      newestStatus: event.kind === 'status' ? event : null,
      summary: event.kind === 'summary' ? event : null,
      earliest: event,
      earliestWithRole: withRole,
      ...(event.kind === 'recording' ? { recordings: mergeRecording([], event) } : {}),
    };
  }
  const merged: CallEntry = {
    sessionId: entry.sessionId,
    newestStatus: event.kind === 'status' ? later(entry.newestStatus, event) : entry.newestStatus,
    summary: event.kind === 'summary' ? later(entry.summary, event) : entry.summary,
    earliest: earlier(entry.earliest, event),
    earliestWithRole: withRole ? earlier(entry.earliestWithRole, withRole) : entry.earliestWithRole,
  };
  const recordings = event.kind === 'recording' ? mergeRecording(entry.recordings ?? [], event) : entry.recordings;
  return recordings ? { ...merged, recordings } : merged;
}

/** One more event of a recording: the newest per recording id wins, and the list stays in id order. */
function mergeRecording(known: readonly CallEvent[], event: CallEvent): CallEvent[] {
  const id = event.recording?.recordingId ?? event.sessionId;
  const same = known.find((other) => (other.recording?.recordingId ?? other.sessionId) === id);
  const rest = known.filter((other) => other !== same);
  return [...rest, later(same ?? null, event)].sort((a, b) =>
    compareText(a.recording?.recordingId ?? a.sessionId, b.recording?.recordingId ?? b.sessionId),
  );
}

/**
 * The party the caller chose from a menu, as any kept event of the call says (the session that names it may be
 * written after 8x8's first status of the call came in, so not every event does).
 */
export function chosenCallee(entry: CallEntry): string | undefined {
  return entry.earliestWithRole?.calleeRole ?? entry.summary?.calleeRole ?? entry.newestStatus?.calleeRole;
}

/** The call as the booking shows it. */
export function callRecordOf(entry: CallEntry): CallRecord {
  const { summary, earliest } = entry;
  const record: CallRecord = {
    sessionId: entry.sessionId,
    callerRole: entry.earliestWithRole?.callerRole ?? null,
    startedAt: summary?.startedAt ?? earliest.startedAt ?? earliest.at,
    // A recording's status is not the call's: until a status or the summary comes, the call shows `RECORDED`.
    status: (summary ?? entry.newestStatus ?? (earliest.kind === 'recording' ? null : earliest))?.status ?? 'RECORDED',
  };
  const calleeRole = chosenCallee(entry);
  if (calleeRole !== undefined) record.calleeRole = calleeRole;
  if (summary?.endedAt) record.endedAt = summary.endedAt;
  if (summary?.durationSeconds !== undefined) record.durationSeconds = summary.durationSeconds;
  const recordings = (entry.recordings ?? []).flatMap((event) => (event.recording ? [event.recording] : []));
  if (recordings.length > 0) record.recordings = recordings;
  return record;
}

/** Tells the history of one more event (the booking workflow's signal handler). */
export function recordCallEvent(history: CallHistory, event: CallEvent): void {
  history.set(event.sessionId, mergeCallEvent(history.get(event.sessionId), event));
}

/** The booking's calls, earliest first. */
export function callRecords(history: CallHistory): CallRecord[] {
  return [...history.values()]
    .map(callRecordOf)
    .sort((a, b) => compareNumbers(timeOf(a.startedAt), timeOf(b.startedAt)) || compareText(a.sessionId, b.sessionId));
}

// Events in the order they happened: by 8x8's time, then by when we received them. The rest only makes the order
// total, so that the merge does not depend on which of two events that tie came first.
function compareEvents(a: CallEvent, b: CallEvent): number {
  return (
    compareNumbers(timeOf(a.at) ?? timeOf(a.receivedAt), timeOf(b.at) ?? timeOf(b.receivedAt)) ||
    compareNumbers(timeOf(a.receivedAt), timeOf(b.receivedAt)) ||
    compareText(identityOf(a), identityOf(b))
  );
}

function later(known: CallEvent | null, event: CallEvent): CallEvent {
  return known === null || compareEvents(event, known) > 0 ? event : known;
}

function earlier(known: CallEvent | null, event: CallEvent): CallEvent {
  return known === null || compareEvents(event, known) < 0 ? event : known;
}

// 8x8's timestamps are text we do not control: one we cannot read counts as unknown, which sorts first.
function timeOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

function compareNumbers(a: number | undefined, b: number | undefined): number {
  const x = a ?? -Infinity;
  const y = b ?? -Infinity;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function identityOf(event: CallEvent): string {
  return JSON.stringify([
    event.eventId ?? null,
    event.at,
    event.receivedAt ?? null,
    event.kind,
    event.status,
    event.callerRole,
    event.startedAt ?? null,
    event.endedAt ?? null,
    event.durationSeconds ?? null,
    event.recording ?? null,
  ]);
}
