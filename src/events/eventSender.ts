import { Webhook } from 'standardwebhooks';
import { isEventsUrl, type EventsConfig } from './eventTargets';
import type { BookingEvent, EventStream } from './bookingEvents';

/** A receiver that takes longer than this to answer has the attempt fail and retried. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** A receiver's Retry-After is waited out up to this; past it the usual backoff applies. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** How one attempt ended. */
export type AttemptOutcome =
  | { kind: 'delivered'; responseStatus: number }
  | { kind: 'not_configured' }
  /** Worth trying again: the receiver was unreachable, slow, 5xx, 408 or 429. */
  | { kind: 'retry'; responseStatus: number | null; error: string; retryAfterMs: number | null }
  /** Trying again would get the same answer: another 4xx, a redirect, a target that is not allowed. */
  | { kind: 'refused'; responseStatus: number | null; error: string };

/**
 * Posts booking events to the platform, signed in the Standard Webhooks format: `webhook-id` (the event's id, the
 * same on every attempt), `webhook-timestamp` (the attempt's time, which receivers check against replays) and
 * `webhook-signature`, one `v1,…` per secret so that a receiver holding either side of a rotation verifies it.
 */
export class EventSender {
  private readonly signers: Webhook[];

  constructor(
    private readonly config: Pick<EventsConfig, 'url' | 'secrets' | 'allowPlainHttp' | 'platformHosts'>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.signers = config.secrets.map((secret) => new Webhook(secret));
  }

  /** The receiver of this stream's events, or null when neither the booking nor the deployment names one. */
  targetOf(stream: EventStream): string | null {
    return stream.callbackUrl ?? this.config.url;
  }

  async send(stream: EventStream, event: BookingEvent, signal?: AbortSignal): Promise<AttemptOutcome> {
    const target = this.targetOf(stream);
    if (target === null) return { kind: 'not_configured' };
    if (!isEventsUrl(target, this.config.allowPlainHttp, this.config.platformHosts)) {
      return {
        kind: 'refused',
        responseStatus: null,
        error: 'the receiver URL is not https (nor loopback http), or its host is not in MASKLINE_PLATFORM_HOSTS',
      };
    }
    if (this.signers.length === 0) {
      return { kind: 'refused', responseStatus: null, error: 'MASKLINE_EVENTS_SECRETS is unset: nothing to sign with' };
    }
    const body = JSON.stringify(event);
    const sentAt = new Date();
    const signature = this.signers.map((signer) => signer.sign(event.id, sentAt, body)).join(' ');
    const timeout = AbortSignal.timeout(ATTEMPT_TIMEOUT_MS);
    let response: Response;
    try {
      response = await this.fetchImpl(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'maskline-events/1',
          'webhook-id': event.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        // A redirect could take the signed event to a host nobody configured.
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      // Only the status matters; the body is read and dropped so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
    } catch (error) {
      if (signal?.aborted) {
        return {
          kind: 'retry',
          responseStatus: null,
          error: 'the attempt was stopped (worker shutting down)',
          retryAfterMs: null,
        };
      }
      const reason = timeout.aborted ? `no answer within ${ATTEMPT_TIMEOUT_MS} ms` : errorCode(error);
      return { kind: 'retry', responseStatus: null, error: `receiver unreachable: ${reason}`, retryAfterMs: null };
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: 'delivered', responseStatus: status };
    if (status === 408 || status === 429 || status >= 500) {
      return {
        kind: 'retry',
        responseStatus: status,
        error: `receiver answered ${status}`,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
      };
    }
    const why = status >= 300 && status < 400 ? 'a redirect, not followed' : 'not retried';
    return { kind: 'refused', responseStatus: status, error: `receiver answered ${status} (${why})` };
  }
}

// The error's code only: a message could quote the URL, whose query may hold the platform's token.
function errorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.name : 'error';
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  if (!Number.isFinite(ms) || ms <= 0) return null;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
