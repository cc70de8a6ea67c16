import type { RoutingDecision } from '../domain/callRouting';
import { isE164, type E164 } from '../domain/phoneNumbers';
import {
  afterWrongPin,
  isPinShaped,
  pinActionId,
  pinAttemptOf,
  PIN_ATTEMPTS_PER_CALLER,
  PIN_DIGITS,
} from '../domain/pin';
import { captureDigits, noticeAndHangup, type CallActionAnswer, type CallActionEvent } from '../eightbyeight';
import type { Logger } from '../logging/logger';
import type { PinHoldings } from '../store/pinHoldings';

export interface PinCallSettings {
  voiceProfile: string;
  /** Said when no PIN connects the caller (the deployment's unknown-caller notice). */
  notice: string;
  /** How long an answer may wait for the store before the caller hears the notice instead. */
  storeTimeoutMs: number;
  prompt?: string;
  retryPrompt?: string;
}

const PROMPT = 'Please enter your booking PIN, then press hash.';
const RETRY_PROMPT = 'That PIN did not match your booking. Please enter your booking PIN, then press hash.';
const NOTHING_ENTERED = 'No PIN was entered.';

/** A PIN entry either connects (the router puts the call through and records it) or is answered here. */
export type PinOutcome = { connect: Extract<RoutingDecision, { kind: 'connect' }> } | { answer: CallActionAnswer };

class StoreTimeout extends Error {}

/**
 * Calls to a number of the PIN set: the caller is asked for the PIN of their booking, and the follow-up with the
 * digits (8x8's `ACTION_COMPLETED`) is routed by (VN, PIN) to that booking's other party, only if the caller is
 * one of its parties. Wrong or missing PINs are asked again a few times per call; a caller's wrong PINs are
 * counted in the store over a window, and past the bound every entry ends with the notice (src/domain/pin.ts).
 * Every answer is a valid callflow: a store that fails or is slow ends the call with the notice.
 */
export class PinCalls {
  constructor(
    private readonly pins: Pick<PinHoldings, 'isPinNumber' | 'route' | 'wrongAttempts' | 'recordWrongAttempt'>,
    private readonly settings: PinCallSettings,
    private readonly logger: Logger,
  ) {}

  /** Whether a call no live booking routes asks for a PIN; a store failure is a no (the caller hears the notice). */
  async asksForPin(event: CallActionEvent): Promise<boolean> {
    if (event.source === null) return false;
    try {
      return await this.withinTime(this.pins.isPinNumber(event.destination));
    } catch (error) {
      this.warn(event, error, 'PIN number lookup failed; the notice');
      return false;
    }
  }

  ask(attempt = 1): CallActionAnswer {
    return captureDigits({
      prompt: attempt === 1 ? (this.settings.prompt ?? PROMPT) : (this.settings.retryPrompt ?? RETRY_PROMPT),
      voiceProfile: this.settings.voiceProfile,
      clientActionId: pinActionId(attempt),
      minDigits: PIN_DIGITS,
      maxDigits: PIN_DIGITS,
      // One try per prompt of ours: each follow-up is then one try of the call, and counted as such.
      tries: 1,
      failureMessage: NOTHING_ENTERED,
    });
  }

  /** The follow-up of a PIN prompt: the digits the caller entered (none, when 8x8 says so). */
  async followUp(event: CallActionEvent): Promise<PinOutcome> {
    const attempt = pinAttemptOf(event.clientActionId);
    const caller = event.source;
    if (attempt === null || caller === null || !isE164(caller)) return { answer: this.notice() };
    try {
      return await this.withinTime(this.route(event, caller, attempt));
    } catch (error) {
      this.warn(event, error, 'store could not check the PIN; the notice');
      return { answer: this.notice() };
    }
  }

  private async route(event: CallActionEvent, caller: E164, attempt: number): Promise<PinOutcome> {
    const entered = isPinShaped(event.dtmf) ? event.dtmf : null;
    // Side by side: the follow-up costs one round trip to the store, not two.
    const [wrongSoFar, booking] = await Promise.all([
      this.pins.wrongAttempts(caller),
      entered === null ? null : this.pins.route(event.destination, entered),
    ]);
    let wrong = wrongSoFar;
    if (wrong >= PIN_ATTEMPTS_PER_CALLER) {
      this.logger.info({ sessionId: event.sessionId, attempt }, 'PIN call turned away: too many wrong PINs');
      return { answer: this.notice() };
    }
    if (entered !== null) {
      const party = booking?.parties.find((candidate) => candidate.number === caller);
      const other = booking?.parties.find((candidate) => candidate.number !== caller);
      if (booking && party && other) {
        return {
          connect: {
            kind: 'connect',
            bookingId: booking.bookingId,
            callerRole: party.role,
            destination: other.number,
            callerId: event.destination,
            record: booking.record,
          },
        };
      }
      // A PIN of another booking counts as a wrong one: the answer never tells a PIN that exists from one that does not.
      await this.pins.recordWrongAttempt(caller);
      wrong += 1;
    }
    const next = afterWrongPin(attempt, wrong);
    this.logger.info({ sessionId: event.sessionId, attempt, next }, 'PIN did not connect the call');
    return { answer: next === 'ask_again' ? this.ask(attempt + 1) : this.notice() };
  }

  private notice(): CallActionAnswer {
    return noticeAndHangup({ text: this.settings.notice, voiceProfile: this.settings.voiceProfile });
  }

  private async withinTime<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeout()), this.settings.storeTimeoutMs);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private warn(event: CallActionEvent, error: unknown, message: string): void {
    this.logger.warn({ err: error instanceof StoreTimeout ? 'timeout' : error, sessionId: event.sessionId }, message);
  }
}
