import { randomUUID } from 'node:crypto';

// Webhook bodies shaped exactly like the ones 8x8 sends (shared/8x8/README.md), for playing 8x8's part: the
// `simulate` commands and the tests. Numbers go without `+`, as 8x8 often writes them.

const digits = (e164: string) => e164.replace(/^\+/, '');

export const SIMULATED_SUBACCOUNT = 'maskline_test';

/** A call arrives on a virtual number: 8x8 asks what to do with it. */
export function callReceived(
  caller: string,
  virtualNumber: string,
  sessionId: string = randomUUID(),
  options: { callId?: string; subAccountId?: string; timestamp?: string } = {},
) {
  return {
    namespace: 'VOICE',
    eventType: 'CALL_ACTION',
    description: 'Action request of a call',
    payload: {
      eventId: randomUUID(),
      callId: options.callId ?? randomUUID(),
      sessionId,
      subAccountId: options.subAccountId ?? SIMULATED_SUBACCOUNT,
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
      timestamp: options.timestamp ?? new Date().toISOString(),
    },
  };
}

/**
 * The follow-up of our digit prompt (`sayAndCapture`): the action completed, the caller's key presses in
 * `eventData`, our `clientActionId` echoed. 8x8's docs show `eventData` as an object; older platform versions send
 * it as a string (`eventData: "string"` sends the bare digits), which Maskline reads alike.
 */
export function digitsEntered(
  caller: string,
  virtualNumber: string,
  input: { sessionId: string; clientActionId: string; digits: string | null; eventData?: 'object' | 'string' },
) {
  const received = callReceived(caller, virtualNumber, input.sessionId);
  return {
    ...received,
    payload: {
      ...received.payload,
      callStatus: 'ACTION_COMPLETED',
      clientActionId: input.clientActionId,
      eventData: input.eventData === 'string' ? (input.digits ?? '') : { dtmf: input.digits },
    },
  };
}

interface LegStatus {
  sessionId: string;
  callStatus: string;
  eventId?: string;
  callId?: string;
  subAccountId?: string;
  timestamp?: string;
  callDuration?: number;
}

/** The inbound leg (caller → virtual number) changed state. */
export function callStatus(input: LegStatus & { caller: string; virtualNumber: string }) {
  return legStatus(input, { direction: 'INBOUND', source: input.caller, destination: input.virtualNumber });
}

/** The outbound leg (virtual number → the other party) changed state. */
export function outboundCallStatus(input: LegStatus & { virtualNumber: string; callee: string }) {
  return legStatus(input, { direction: 'OUTBOUND', source: input.virtualNumber, destination: input.callee });
}

function legStatus(input: LegStatus, leg: { direction: string; source: string; destination: string }) {
  return {
    namespace: 'VOICE',
    eventType: 'CALL_STATUS',
    description: 'Call status update',
    payload: {
      eventId: input.eventId ?? randomUUID(),
      callId: input.callId ?? randomUUID(),
      sessionId: input.sessionId,
      subAccountId: input.subAccountId ?? SIMULATED_SUBACCOUNT,
      callStatus: input.callStatus,
      callDirection: leg.direction,
      callType: 'PSTN',
      source: digits(leg.source),
      destination: digits(leg.destination),
      callDuration: input.callDuration ?? 0,
      timestamp: input.timestamp ?? new Date().toISOString(),
    },
  };
}

/**
 * The whole session has ended. With a `callee` the call was put through and the summary has both legs; without
 * one the caller only heard our answer (the notice) and there is only `callA`.
 */
export function sessionSummary(input: {
  sessionId: string;
  caller: string;
  virtualNumber: string;
  callee?: string | null;
  sessionStatus: string;
  durationSeconds: number;
  callIdA?: string;
  callIdB?: string;
  subAccountId?: string;
  lastAction?: string;
}) {
  const start = new Date(Date.now() - input.durationSeconds * 1000).toISOString();
  const end = new Date().toISOString();
  const callA = {
    callId: input.callIdA ?? randomUUID(),
    callDirection: 'INBOUND',
    callType: 'PSTN',
    source: digits(input.caller),
    destination: digits(input.virtualNumber),
    callStatus: 'COMPLETED',
    callDuration: input.durationSeconds,
  };
  const callB = input.callee
    ? {
        callId: input.callIdB ?? randomUUID(),
        callDirection: 'OUTBOUND',
        callType: 'PSTN',
        source: digits(input.virtualNumber),
        destination: digits(input.callee),
        callStatus: input.sessionStatus === 'COMPLETED' ? 'COMPLETED' : input.sessionStatus,
        // 8x8 has been seen sending durations as strings.
        callDuration: String(input.durationSeconds),
      }
    : undefined;
  return {
    namespace: 'VOICE',
    eventType: 'SESSION_SUMMARY',
    description: 'Call session summary',
    payload: {
      sessionId: input.sessionId,
      subAccountId: input.subAccountId ?? SIMULATED_SUBACCOUNT,
      sessionStatus: input.sessionStatus,
      startTime: start,
      endTime: end,
      lastAction: input.lastAction ?? (callB ? 'MAKE_CALL' : 'HANGUP'),
      callCount: callB ? 2 : 1,
      details: callB ? { callA, callB } : { callA },
    },
  };
}

/**
 * A recording of a session was uploaded to the account's recording push destination (VRU). The payload has the
 * fields of 8x8's recording status (`GET .../recordings/{sessionId}` in number_masking_api.json).
 */
export function callRecordingStatus(input: {
  sessionId: string;
  recordingId?: string;
  durationSeconds: number;
  status?: string;
  externalFileUrl?: string;
  subAccountId?: string;
}) {
  const recordingId = input.recordingId ?? randomUUID();
  return {
    namespace: 'VOICE',
    eventType: 'CALL_RECORDING_STATUS',
    description: 'Call recording uploaded',
    payload: {
      recordingId,
      sessionId: input.sessionId,
      subAccountId: input.subAccountId ?? SIMULATED_SUBACCOUNT,
      status: input.status ?? 'completed',
      externalFileUrl: input.externalFileUrl ?? `s3://maskline-recordings/${input.sessionId}/${recordingId}.mp3`,
      duration: input.durationSeconds,
      startRecordingTime: new Date(Date.now() - input.durationSeconds * 1000).toISOString(),
    },
  };
}

/** The subaccount's virtual numbers changed: all of them (`SNAPSHOT`) or the changed ones (`UPDATES`). */
export function virtualNumberUpdate(input: {
  updateEventType: 'SNAPSHOT' | 'UPDATES';
  virtualNumbers: { number: string; operationalStatus: string; countryCode?: string; referenceId?: string }[];
  subAccountId?: string;
  totalNumbers?: number;
}) {
  const now = new Date().toISOString();
  return {
    namespace: 'VOICE',
    eventType: 'VIRTUAL_NUMBER_UPDATE',
    description: 'Status of account virtual number(s) updated',
    payload: {
      subAccountId: input.subAccountId ?? SIMULATED_SUBACCOUNT,
      totalNumbers: input.totalNumbers ?? input.virtualNumbers.length,
      updateEventType: input.updateEventType,
      virtualNumbers: input.virtualNumbers.map((vn) => ({
        msisdn: digits(vn.number),
        updatedTimestamp: now,
        countryCode: vn.countryCode ?? 'SG',
        operationalStatus: vn.operationalStatus,
        referenceId: vn.referenceId ?? `ref-${digits(vn.number)}`,
        updateStatus: 'UPDATED',
      })),
    },
  };
}
