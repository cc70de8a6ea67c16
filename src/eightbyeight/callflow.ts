import { isE164, toE164 } from '../domain/phoneNumbers';

// Our answer to a CALL_ACTION webhook: the actions 8x8 runs, in order, on the call that just arrived.
// Shapes follow the action schemas of 8x8's Voice API (voice_v1_api.json, `callflows` request body). An answer
// 8x8 cannot run ends the session with sessionStatus ERROR (-2003 invalid callflow), so the builders only
// produce what those schemas accept.

export interface CallActionAnswer {
  /** 8x8 echoes it in the follow-up CALL_ACTION once the callflow's action completes. */
  clientActionId?: string;
  callflow: CallflowAction[];
}

export type CallflowAction = MakeCallAction | SayAction | SayAndCaptureAction | HangupAction;

/** Bridges the call to `destination`, showing `source` (one of our virtual numbers) as the caller ID. */
export interface MakeCallAction {
  action: 'makeCall';
  params: {
    source: string;
    destination: string;
    /**
     * Records the call (8x8's call-recordings guide; needs a recording push config on the account). The published
     * schema caps makeCall params at source and destination (`maxProperties: 2`), so it is sent only for a booking
     * that asked to be recorded: every other callflow stays within the schema as published.
     */
    callRecording?: true;
  };
}

/** Text-to-speech into the active call. */
export interface SayAction {
  action: 'say';
  params: {
    /** At most {@link MAX_SAY_TEXT_LENGTH} characters. */
    text: string;
    voiceProfile: string;
    /** 1 to 3. */
    repetition: number;
    /** The schema types it as an integer although the docs allow 0.5 to 2: send 1 or 2. */
    speed: number;
  };
}

/**
 * Speaks a prompt and collects the caller's key presses; 8x8 posts them back in a follow-up CALL_ACTION
 * (`ACTION_COMPLETED`, the digits in `eventData`). 8x8's doc pages disagree on the defaults, so every value is sent.
 */
export interface SayAndCaptureAction {
  action: 'sayAndCapture';
  params: {
    promptMessage: string;
    voiceProfile: string;
    speed: number;
    minDigits: number;
    maxDigits: number;
    /** ms allowed between two key presses; below `overallTimeout`. */
    digitTimeout: number;
    /** ms allowed for the whole entry. */
    overallTimeout: number;
    completeOnHash: boolean;
    /** How many times 8x8 asks again when nothing valid was entered. */
    noOfTries: number;
    failureMessage: string;
  };
}

/** Ends every leg of the session. The schema defines no params; 8x8's own examples omit them. */
export interface HangupAction {
  action: 'hangup';
  params?: Record<string, never>;
}

export const MAX_SAY_TEXT_LENGTH = 3000;

/**
 * Puts the caller through to the other party of the booking, with the virtual number as caller ID, so the
 * callee sees the virtual number and calling it back reaches the caller again.
 * @throws RangeError when either number is not an international phone number; that is a bug upstream.
 */
export function connectCall({
  virtualNumber,
  destination,
  clientActionId,
  record = false,
}: {
  virtualNumber: string;
  destination: string;
  clientActionId?: string;
  /** Ask 8x8 to record the call. */
  record?: boolean;
}): CallActionAnswer {
  const makeCall: MakeCallAction = {
    action: 'makeCall',
    params: {
      source: e164OrThrow(virtualNumber, 'virtualNumber'),
      destination: e164OrThrow(destination, 'destination'),
      ...(record ? { callRecording: true as const } : {}),
    },
  };
  return answer([makeCall], clientActionId);
}

/** Tells the caller why they cannot be connected (e.g. no active booking on this number), then ends the call. */
export function noticeAndHangup({
  text,
  voiceProfile,
  clientActionId,
}: {
  text: string;
  voiceProfile: string;
  clientActionId?: string;
}): CallActionAnswer {
  const say: SayAction = {
    action: 'say',
    params: { text: truncateForSpeech(text), voiceProfile, repetition: 1, speed: 1 },
  };
  return answer([say, { action: 'hangup' }], clientActionId);
}

/**
 * Asks the caller for digits (a PIN, a menu choice). `clientActionId` comes back with the digits, so it says what
 * the digits are for; it must carry nothing private, 8x8 keeps it in its logs.
 */
export function captureDigits({
  prompt,
  voiceProfile,
  clientActionId,
  minDigits,
  maxDigits,
  tries = 2,
  failureMessage,
  digitTimeoutMs = 3_000,
  overallTimeoutMs = 15_000,
}: {
  prompt: string;
  voiceProfile: string;
  clientActionId: string;
  minDigits: number;
  maxDigits: number;
  tries?: number;
  /** Said when the caller entered nothing valid after the last try. */
  failureMessage: string;
  digitTimeoutMs?: number;
  overallTimeoutMs?: number;
}): CallActionAnswer {
  if (!(Number.isInteger(minDigits) && minDigits >= 1 && maxDigits >= minDigits && Number.isInteger(maxDigits))) {
    throw new RangeError(`digits must be 1 <= minDigits <= maxDigits, got ${minDigits}..${maxDigits}`);
  }
  const capture: SayAndCaptureAction = {
    action: 'sayAndCapture',
    params: {
      promptMessage: truncateForSpeech(prompt),
      voiceProfile,
      speed: 1,
      minDigits,
      maxDigits,
      digitTimeout: Math.min(digitTimeoutMs, overallTimeoutMs - 1),
      overallTimeout: overallTimeoutMs,
      completeOnHash: true,
      noOfTries: Math.max(1, Math.trunc(tries)),
      failureMessage: truncateForSpeech(failureMessage),
    },
  };
  return answer([capture], clientActionId);
}

function answer(callflow: CallflowAction[], clientActionId: string | undefined): CallActionAnswer {
  return clientActionId === undefined ? { callflow } : { clientActionId, callflow };
}

// The numbers of a callflow come from the store, already normalised: they are sent as they are, which keeps
// libphonenumber off the answer's path; anything else is normalised first.
function e164OrThrow(number: string, field: string): string {
  const e164 = isE164(number) ? number : toE164(number);
  if (e164 === null) throw new RangeError(`${field} is not an international phone number: ${JSON.stringify(number)}`);
  return e164;
}

// Longer text makes the whole callflow invalid, and a cut-short notice is better than none.
function truncateForSpeech(text: string): string {
  if (text.length <= MAX_SAY_TEXT_LENGTH) return text;
  const cut = text.slice(0, MAX_SAY_TEXT_LENGTH);
  // Never end on the first half of a surrogate pair: 8x8 would receive an unpaired surrogate.
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
