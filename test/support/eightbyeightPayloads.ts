import { randomUUID } from 'node:crypto';

/** Webhook bodies shaped exactly like 8x8's (see shared/8x8/README.md); numbers without `+`, as 8x8 often sends. */

const digits = (e164: string) => e164.replace(/^\+/, '');

export function callReceived(caller: string, virtualNumber: string, sessionId: string = randomUUID()) {
  return {
    namespace: 'VOICE',
    eventType: 'CALL_ACTION',
    description: 'Action request of a call',
    payload: {
      eventId: randomUUID(),
      callId: randomUUID(),
      sessionId,
      subAccountId: 'maskline_test',
      callStatus: 'CALL_RECEIVED',
      callDirection: 'INBOUND',
      callType: 'PSTN',
      source: digits(caller),
      destination: digits(virtualNumber),
      sourceFormat: 'MSISDN',
      destinationFormat: 'MSISDN',
      sourceCountryCode: 'SG',
      destinationCountryCode: 'SG',
      callDuration: 0,
      timestamp: new Date().toISOString(),
    },
  };
}

export function callStatus(input: { sessionId: string; caller: string; virtualNumber: string; callStatus: string; eventId?: string }) {
  return {
    namespace: 'VOICE',
    eventType: 'CALL_STATUS',
    description: 'Call status update',
    payload: {
      eventId: input.eventId ?? randomUUID(),
      callId: randomUUID(),
      sessionId: input.sessionId,
      subAccountId: 'maskline_test',
      callStatus: input.callStatus,
      callDirection: 'INBOUND',
      callType: 'PSTN',
      source: digits(input.caller),
      destination: digits(input.virtualNumber),
      callDuration: 0,
      timestamp: new Date().toISOString(),
    },
  };
}

export function sessionSummary(input: {
  sessionId: string;
  caller: string;
  virtualNumber: string;
  callee: string;
  sessionStatus: string;
  durationSeconds: number;
}) {
  const start = new Date(Date.now() - input.durationSeconds * 1000).toISOString();
  const end = new Date().toISOString();
  return {
    namespace: 'VOICE',
    eventType: 'SESSION_SUMMARY',
    description: 'Call session summary',
    payload: {
      sessionId: input.sessionId,
      subAccountId: 'maskline_test',
      sessionStatus: input.sessionStatus,
      startTime: start,
      endTime: end,
      lastAction: 'MAKE_CALL',
      callCount: 2,
      details: {
        callA: {
          callId: randomUUID(),
          callDirection: 'INBOUND',
          callType: 'PSTN',
          source: digits(input.caller),
          destination: digits(input.virtualNumber),
          callStatus: 'COMPLETED',
          callDuration: input.durationSeconds,
        },
        callB: {
          callId: randomUUID(),
          callDirection: 'OUTBOUND',
          callType: 'PSTN',
          source: digits(input.virtualNumber),
          destination: digits(input.callee),
          callStatus: 'COMPLETED',
          callDuration: String(input.durationSeconds),
        },
      },
    },
  };
}
