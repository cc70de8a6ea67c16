import { z } from 'zod';
import { toE164 } from '../domain/phoneNumbers';

// The webhooks 8x8 POSTs to us: `{ namespace: 'VOICE', eventType, description, payload }`.
// Liberal in what we accept (8x8's docs and platform versions disagree on spelling and types), strict in what we
// need to route a call or keep the number pool right. Optional fields that come in an unusable shape are dropped
// rather than failing the whole webhook.

/** A call arrived on a virtual number (`CALL_RECEIVED`), or an action of our previous answer finished. */
export interface CallActionEvent {
  eventId?: string;
  callId: string;
  sessionId: string;
  subAccountId?: string;
  callStatus: 'CALL_RECEIVED' | 'ACTION_COMPLETED' | (string & {});
  /** The caller's real number, E.164; null when the caller withheld it (8x8 then sends e.g. `anonymous`). */
  source: string | null;
  /** The virtual number that was dialled, E.164. */
  destination: string;
  /** Echoed from our previous answer. */
  clientActionId?: string;
  /** Digits captured by the previous action; null when 8x8 says none were captured. */
  dtmf?: string | null;
  timestamp?: string;
}

/** One call leg changed state. Best effort: may arrive out of order or twice. */
export interface CallStatusEvent {
  eventId: string;
  callId: string;
  sessionId: string;
  callStatus: string;
  callDirection?: string;
  /** E.164; null when it is not a number (a caller who withheld theirs: 8x8 then sends e.g. `anonymous`). */
  source: string | null;
  /** E.164; null when it is not a number. */
  destination: string | null;
  timestamp?: string;
  callDuration?: number;
}

export interface SessionLeg {
  callId?: string;
  callDirection?: string;
  source?: string;
  destination?: string;
  connectedTimestamp?: string;
  disconnectedTimestamp?: string;
  initiatedTimestamp?: string;
  callStatus?: string;
  callDurationSeconds?: number;
}

/** The whole call session has ended; sent once. */
export interface SessionSummaryEvent {
  sessionId: string;
  /** Spelling normalised: `NO ANSWER` becomes `NO_ANSWER`, `CANCELLED` becomes `CANCELED`. */
  sessionStatus: 'COMPLETED' | 'NO_ANSWER' | 'BUSY' | 'CANCELED' | 'FAILED' | 'ERROR' | (string & {});
  startTime?: string;
  endTime?: string;
  lastAction?: string;
  callCount?: number;
  errorDetails?: { errorMsg?: string; errorCode?: number | string };
  /** The inbound leg: caller to virtual number. */
  callA?: SessionLeg;
  /** The outbound leg: virtual number to the other party. */
  callB?: SessionLeg;
}

/**
 * A recording of a call session was uploaded to the account's recording push destination (VRU webhook). Fields as
 * in 8x8's recording status (`GET .../recordings/{sessionId}`, number_masking_api.json).
 */
export interface CallRecordingEvent {
  sessionId: string;
  /** 8x8's id of the recording; when 8x8 gives none, the session's id stands in (one recording per session). */
  recordingId: string;
  subAccountId?: string;
  /** e.g. `completed`; `unknown` when 8x8 gave none. */
  status: string;
  /** Where the file was put (`externalFileUrl`). */
  fileUrl?: string;
  durationSeconds?: number;
  /** `startRecordingTime`. */
  startedAt?: string;
}

export interface VirtualNumberState {
  msisdn: string;
  countryCode?: string;
  /** `Active`, `Expiring`, `Inactive`, `Unhealthy`: only `Active` numbers may go to new bookings. */
  operationalStatus: string;
  referenceId?: string;
  updatedTimestamp?: string;
  updateStatus?: string;
}

/** The virtual numbers of the subaccount changed: the full list (`SNAPSHOT`) or the changed ones (`UPDATES`). */
export interface VirtualNumberUpdateEvent {
  subAccountId?: string;
  /** How many numbers the subaccount has: a snapshot listing fewer is not the whole pool. */
  totalNumbers?: number;
  updateEventType: 'SNAPSHOT' | 'UPDATES';
  virtualNumbers: VirtualNumberState[];
}

export type Webhook =
  | { type: 'CALL_ACTION'; event: CallActionEvent }
  | { type: 'CALL_STATUS'; event: CallStatusEvent }
  | { type: 'SESSION_SUMMARY'; event: SessionSummaryEvent }
  | { type: 'VIRTUAL_NUMBER_UPDATE'; event: VirtualNumberUpdateEvent }
  | { type: 'CALL_RECORDING_STATUS'; event: CallRecordingEvent };

export interface WebhookError<Code extends string = 'invalid_webhook'> {
  code: Code;
  /** Names the offending field, e.g. `payload.source: required`. */
  message: string;
}

export type WebhookParseResult<T, Code extends string = 'invalid_webhook'> =
  { ok: true; value: T } | { ok: false; error: WebhookError<Code> };

// --- field shapes ------------------------------------------------------------------------------------------

const requiredText = z.string().min(1, 'must not be empty');
const optionalText = z.string().optional().catch(undefined);

// 8x8 writes numbers with and without `+`; a JSON number is accepted too, it costs nothing.
const phoneNumber = z
  .preprocess((raw) => (typeof raw === 'number' ? String(raw) : raw), z.string())
  .transform((raw, ctx) => {
    const e164 = toE164(raw);
    if (e164 === null) {
      ctx.addIssue({ code: 'custom', message: 'not an international phone number' });
      return z.NEVER;
    }
    return e164;
  });

// A caller may withhold their number: the call is still a well-formed call we must answer (with the notice), and
// its status events still something to keep.
const callerNumber = z
  .preprocess((raw) => (typeof raw === 'number' ? String(raw) : raw), requiredText)
  .transform((raw) => toE164(raw));

// Durations and counts come as numbers or as numeric strings, depending on the doc page and platform version.
const optionalCount = z
  .union([
    z.number().nonnegative(),
    z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number),
  ])
  .optional()
  .catch(undefined);

// --- CALL_ACTION -------------------------------------------------------------------------------------------

const callActionPayload = z
  .object({
    eventId: optionalText,
    callId: requiredText,
    sessionId: requiredText,
    subAccountId: optionalText,
    callStatus: requiredText,
    source: callerNumber,
    destination: phoneNumber,
    clientActionId: optionalText,
    eventData: z.unknown().optional(),
    timestamp: optionalText,
  })
  .transform(({ eventData, ...fields }): CallActionEvent => definedOnly({ ...fields, dtmf: dtmfOf(eventData) }));

// The docs show `eventData` as an object `{"dtmf": "1234"}`; older platform versions send it as a string, either
// the JSON of that object or the bare digits. `dtmf` itself is nullable.
function dtmfOf(eventData: unknown): string | null | undefined {
  if (eventData === undefined) return undefined;
  if (eventData === null) return null;
  if (typeof eventData === 'string') {
    const text = eventData.trim();
    if (text.startsWith('{')) {
      try {
        return dtmfOf(JSON.parse(text) as unknown);
      } catch {
        return undefined;
      }
    }
    return text === '' ? null : text;
  }
  if (isRecord(eventData)) {
    const { dtmf } = eventData;
    if (dtmf === null || dtmf === '') return null;
    if (typeof dtmf === 'string') return dtmf;
    if (typeof dtmf === 'number') return String(dtmf);
  }
  return undefined;
}

// --- CALL_STATUS -------------------------------------------------------------------------------------------

const callStatusPayload = z
  .object({
    eventId: requiredText,
    callId: requiredText,
    sessionId: requiredText,
    callStatus: requiredText,
    callDirection: optionalText,
    source: callerNumber,
    destination: callerNumber,
    timestamp: optionalText,
    callDuration: optionalCount,
  })
  .transform((fields): CallStatusEvent => definedOnly(fields));

// --- SESSION_SUMMARY ---------------------------------------------------------------------------------------

// A summary is a record of what happened: a leg number we cannot read must not cost us the whole summary.
const optionalPhoneNumber = phoneNumber.optional().catch(undefined);

const sessionLeg = z
  .object({
    callId: optionalText,
    callDirection: optionalText,
    source: optionalPhoneNumber,
    destination: optionalPhoneNumber,
    initiatedTimestamp: optionalText,
    connectedTimestamp: optionalText,
    disconnectedTimestamp: optionalText,
    callStatus: optionalText,
    callDuration: optionalCount,
  })
  .transform(({ callDuration, ...fields }): SessionLeg =>
    definedOnly({ ...fields, callDurationSeconds: callDuration }),
  );

const sessionStatus = requiredText.transform((status) => {
  // Some doc pages spell `NO ANSWER` and `CANCELLED`.
  const spelled = status
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  return spelled === 'CANCELLED' ? 'CANCELED' : spelled;
});

const errorDetails = z
  .object({
    errorMsg: optionalText,
    errorCode: z.union([z.number(), z.string()]).optional().catch(undefined),
  })
  .transform((fields) => definedOnly(fields))
  .optional()
  .catch(undefined);

const sessionSummaryPayload = z
  .preprocess(
    (payload) =>
      isRecord(payload) ? { ...payload, callA: legOf(payload, 'calla'), callB: legOf(payload, 'callb') } : payload,
    z.object({
      sessionId: requiredText,
      sessionStatus,
      startTime: optionalText,
      endTime: optionalText,
      lastAction: optionalText,
      callCount: optionalCount,
      errorDetails,
      callA: sessionLeg.optional().catch(undefined),
      callB: sessionLeg.optional().catch(undefined),
    }),
  )
  .transform((fields): SessionSummaryEvent => definedOnly(fields));

// The legs sit under `details.callA` / `details.callB`; the key `CallA` has been seen too.
function legOf(payload: Record<string, unknown>, lowerCaseKey: 'calla' | 'callb'): unknown {
  const { details } = payload;
  if (!isRecord(details)) return undefined;
  const key = Object.keys(details).find((k) => k.toLowerCase() === lowerCaseKey);
  return key === undefined ? undefined : details[key];
}

// --- CALL_RECORDING_STATUS -------------------------------------------------------------------------------

// 8x8's recording status spells `sessionid` in one place and `sessionId` elsewhere: both are read. Only the session
// is needed to attach the recording to its call; a field in an unusable shape is dropped, not the notice.
const callRecordingPayload = z
  .preprocess(
    (payload) =>
      isRecord(payload) && payload.sessionId === undefined && payload.sessionid !== undefined
        ? { ...payload, sessionId: payload.sessionid }
        : payload,
    z.object({
      sessionId: requiredText.max(128),
      recordingId: z.string().min(1).max(128).optional().catch(undefined),
      subAccountId: optionalText,
      status: z.string().min(1).max(64).optional().catch(undefined),
      externalFileUrl: z.string().min(1).max(2048).optional().catch(undefined),
      duration: optionalCount,
      startRecordingTime: optionalText,
    }),
  )
  .transform(({ recordingId, status, externalFileUrl, duration, startRecordingTime, ...fields }): CallRecordingEvent =>
    definedOnly({
      ...fields,
      recordingId: recordingId ?? fields.sessionId,
      status: status ?? 'unknown',
      fileUrl: externalFileUrl,
      durationSeconds: duration,
      startedAt: startRecordingTime,
    }),
  );

// --- VIRTUAL_NUMBER_UPDATE ---------------------------------------------------------------------------------

const virtualNumberState = z
  .object({
    msisdn: phoneNumber,
    countryCode: optionalText,
    operationalStatus: requiredText,
    referenceId: optionalText,
    updatedTimestamp: optionalText,
    updateStatus: optionalText,
  })
  .transform((fields): VirtualNumberState => definedOnly(fields));

const virtualNumberUpdatePayload = z
  .object({
    subAccountId: optionalText,
    totalNumbers: optionalCount,
    updateEventType: z
      .string()
      .transform((type) => type.trim().toUpperCase())
      .pipe(z.enum(['SNAPSHOT', 'UPDATES'])),
    virtualNumbers: z.array(virtualNumberState),
  })
  .transform((fields): VirtualNumberUpdateEvent => definedOnly(fields));

// --- parsing -----------------------------------------------------------------------------------------------

function webhookOf<T>(eventType: string, payload: z.ZodType<T>): z.ZodType<T> {
  return z.object({ eventType: z.literal(eventType), payload }).transform((webhook) => webhook.payload);
}

const callActionWebhook = webhookOf('CALL_ACTION', callActionPayload);
const callStatusWebhook = webhookOf('CALL_STATUS', callStatusPayload);
const sessionSummaryWebhook = webhookOf('SESSION_SUMMARY', sessionSummaryPayload);
const virtualNumberUpdateWebhook = webhookOf('VIRTUAL_NUMBER_UPDATE', virtualNumberUpdatePayload);
const callRecordingWebhook = webhookOf('CALL_RECORDING_STATUS', callRecordingPayload);

export function parseCallAction(body: unknown): WebhookParseResult<CallActionEvent> {
  return parseWith(callActionWebhook, body);
}

export function parseCallStatus(body: unknown): WebhookParseResult<CallStatusEvent> {
  return parseWith(callStatusWebhook, body);
}

export function parseSessionSummary(body: unknown): WebhookParseResult<SessionSummaryEvent> {
  return parseWith(sessionSummaryWebhook, body);
}

export function parseVirtualNumberUpdate(body: unknown): WebhookParseResult<VirtualNumberUpdateEvent> {
  return parseWith(virtualNumberUpdateWebhook, body);
}

export function parseCallRecordingStatus(body: unknown): WebhookParseResult<CallRecordingEvent> {
  return parseWith(callRecordingWebhook, body);
}

/** For an endpoint that receives every webhook type (older 8x8 docs register one URL for all). */
export function parseWebhook(body: unknown): WebhookParseResult<Webhook, 'invalid_webhook' | 'unknown_event_type'> {
  if (!isRecord(body)) return invalid('body: expected an object');
  const { eventType } = body;
  switch (eventType) {
    case 'CALL_ACTION':
      return withType(parseCallAction(body), (event) => ({ type: eventType, event }));
    case 'CALL_STATUS':
      return withType(parseCallStatus(body), (event) => ({ type: eventType, event }));
    case 'SESSION_SUMMARY':
      return withType(parseSessionSummary(body), (event) => ({ type: eventType, event }));
    case 'VIRTUAL_NUMBER_UPDATE':
      return withType(parseVirtualNumberUpdate(body), (event) => ({ type: eventType, event }));
    case 'CALL_RECORDING_STATUS':
      return withType(parseCallRecordingStatus(body), (event) => ({ type: eventType, event }));
  }
  if (eventType === undefined) return invalid('eventType: required');
  if (typeof eventType !== 'string') return invalid('eventType: expected string');
  return {
    ok: false,
    error: {
      code: 'unknown_event_type',
      message: `eventType: unknown value ${JSON.stringify(eventType.slice(0, 64))}`,
    },
  };
}

function withType<T>(result: WebhookParseResult<T>, toWebhook: (event: T) => Webhook): WebhookParseResult<Webhook> {
  return result.ok ? { ok: true, value: toWebhook(result.value) } : result;
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown): WebhookParseResult<T> {
  const result = schema.safeParse(body, { error: describeIssue });
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  return invalid(problems.join('; '));
}

function invalid(message: string): { ok: false; error: WebhookError } {
  return { ok: false, error: { code: 'invalid_webhook', message } };
}

// Short messages for the log line of a rejected webhook: `payload.source: required`.
const describeIssue: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') return issue.input === undefined ? 'required' : `expected ${issue.expected}`;
  if (issue.code === 'invalid_value') return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
  return undefined;
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Absent stays absent: an `undefined` value would be stored as null by the MongoDB driver and shows up in logs.
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
