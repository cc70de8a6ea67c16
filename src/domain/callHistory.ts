import type { CallRecord } from './booking';

/** A call-status or session-summary event as the booking receives it (roles, never numbers). */
export interface CallEvent {
  sessionId: string;
  callerRole: string | null;
  kind: 'status' | 'summary';
  at: string;
  status: string;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
}

/** Merges a call event into the booking's call history; repeats and late status events change nothing. */
export function recordCall(calls: Map<string, CallRecord>, event: CallEvent): void {
  const known = calls.get(event.sessionId);
  const call: CallRecord = known ?? {
    sessionId: event.sessionId,
    callerRole: event.callerRole,
    startedAt: event.startedAt ?? event.at,
    status: event.status,
  };
  if (event.kind === 'summary') {
    call.status = event.status;
    if (event.startedAt) call.startedAt = event.startedAt;
    if (event.endedAt) call.endedAt = event.endedAt;
    if (event.durationSeconds !== undefined) call.durationSeconds = event.durationSeconds;
  } else if (call.endedAt === undefined) {
    // Status events are best effort and may arrive after the summary; the summary's outcome is final.
    call.status = event.status;
  }
  call.callerRole ??= event.callerRole;
  calls.set(event.sessionId, call);
}
