import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import type { EndedPairing, PlatformAnswer } from '../domain/outOfSession';
import { parseValidPhoneNumber } from '../domain/phoneNumbers';
import { MAX_SAY_TEXT_LENGTH } from '../eightbyeight';

/** The platform's answer is read up to this size; anything longer is not an answer. */
const MAX_ANSWER_BYTES = 16 * 1024;

/** What `ask` posts: what Maskline knows of the call, and the caller's number only where events carry numbers. */
export interface AskRequest {
  type: 'call.out_of_session';
  /** Unique per call; also the `webhook-id` (`ask_<sessionId>`), so a receiver can tell a repeat. */
  sessionId: string;
  virtualNumber: string;
  /** The caller's number: only with MASKLINE_EVENTS_INCLUDE_NUMBERS=true; otherwise absent. */
  caller?: { number: string };
  /** The booking on this VN the caller was a party of, ended within the window; null when there is none. */
  recentBooking: { bookingId: string; callerRole: string; otherRole: string; endedAt: string } | null;
  receivedAt: string;
}

const platformAnswerSchema = z.union([
  z.object({ action: z.literal('connect'), role: z.string().trim().min(1).max(64) }),
  z.object({
    action: z.literal('connect'),
    number: z.string().transform((raw, ctx) => {
      const parsed = parseValidPhoneNumber(raw);
      if (!parsed) {
        ctx.addIssue({ code: 'custom', message: 'not a valid phone number' });
        return z.NEVER;
      }
      return parsed.e164;
    }),
  }),
  z.object({ action: z.literal('say'), text: z.string().trim().min(1).max(MAX_SAY_TEXT_LENGTH) }),
]);

/** The answer schema, for the OpenAPI document. */
export const platformAnswerJsonSchema = platformAnswerSchema;

export type AskResult = { kind: 'answered'; answer: PlatformAnswer } | { kind: 'failed'; reason: string };

export interface PlatformAskSettings {
  timeoutMs: number;
  /** Standard Webhooks secrets, as booking events are signed (MASKLINE_EVENTS_SECRETS). */
  secrets: readonly string[];
  includeNumbers: boolean;
}

/**
 * Asks the booking platform what to do with a call no live booking routes, within a budget: the caller is
 * waiting. Any answer that is late, not 2xx, not JSON or not one of the shapes below is a failure, and the caller
 * falls back to the configured route. Signed like booking events (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`).
 */
export class PlatformAsk {
  private readonly signers: Webhook[];

  constructor(
    private readonly settings: PlatformAskSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.signers = settings.secrets.map((secret) => new Webhook(secret));
  }

  requestOf(call: { sessionId: string; caller: string | null; virtualNumber: string }, pairing: EndedPairing | null) {
    const request: AskRequest = {
      type: 'call.out_of_session',
      sessionId: call.sessionId,
      virtualNumber: call.virtualNumber,
      ...(this.settings.includeNumbers && call.caller !== null ? { caller: { number: call.caller } } : {}),
      recentBooking: pairing
        ? {
            bookingId: pairing.bookingId,
            callerRole: pairing.callerRole,
            otherRole: pairing.otherRole,
            endedAt: pairing.endedAt.toISOString(),
          }
        : null,
      receivedAt: new Date().toISOString(),
    };
    return request;
  }

  async ask(url: string, request: AskRequest): Promise<AskResult> {
    if (this.signers.length === 0) return { kind: 'failed', reason: 'no MASKLINE_EVENTS_SECRETS to sign with' };
    const body = JSON.stringify(request);
    const id = `ask_${request.sessionId}`;
    const sentAt = new Date();
    const signal = AbortSignal.timeout(this.settings.timeoutMs);
    try {
      const response = await this.fetchImpl(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'maskline-ask/1',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': this.signers.map((signer) => signer.sign(id, sentAt, body)).join(' '),
        },
        body,
        redirect: 'manual',
        signal,
      });
      const text = await response.text();
      if (response.status < 200 || response.status >= 300) {
        return { kind: 'failed', reason: `the platform answered ${response.status}` };
      }
      if (text.length > MAX_ANSWER_BYTES) return { kind: 'failed', reason: 'the answer is too long' };
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { kind: 'failed', reason: 'the answer is not JSON' };
      }
      const parsed = platformAnswerSchema.safeParse(json);
      if (!parsed.success) return { kind: 'failed', reason: 'the answer is not one Maskline takes' };
      return { kind: 'answered', answer: parsed.data as PlatformAnswer };
    } catch (error) {
      if (signal.aborted) return { kind: 'failed', reason: `no answer within ${this.settings.timeoutMs} ms` };
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      return {
        kind: 'failed',
        reason: `the platform could not be reached (${typeof code === 'string' ? code : 'error'})`,
      };
    }
  }
}
