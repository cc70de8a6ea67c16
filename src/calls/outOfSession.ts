import {
  connectTarget,
  type AfterEndRoute,
  type EndedPairing,
  type OutOfSessionPlan,
  type OutOfSessionPolicy,
} from '../domain/outOfSession';
import type { E164 } from '../domain/phoneNumbers';
import type { CallActionEvent } from '../eightbyeight';
import type { Logger } from '../logging/logger';
import type { EndedPairings } from '../store/endedPairings';
import type { PlatformAsk } from './platformAsk';

/** The deployment's settings for calls no live booking routes (src/config.ts reads them). */
export interface OutOfSessionConfig {
  /** MASKLINE_OUT_OF_SESSION_POLICY: what a caller no booking knows gets. */
  policy: OutOfSessionPolicy;
  /** MASKLINE_SUPPORT_NUMBER: where `forward` and `support` connect, showing the VN as caller ID. */
  supportNumber: E164 | null;
  /** MASKLINE_ASK_URL: where `ask` posts, unless a booking names its own. */
  askUrl: string | null;
  /** MASKLINE_ASK_TIMEOUT_MS: the budget of `ask`; past it the caller falls back. */
  askTimeoutMs: number;
  /** MASKLINE_ASK_FALLBACK: what a caller gets when `ask` fails (late, unreachable, invalid). */
  askFallback: 'notice' | 'forward';
  /** MASKLINE_ENDED_BOOKING_WINDOW in seconds; 0: late callers of ended bookings are not routed (the default). */
  endedBookingWindowSeconds: number;
  /** MASKLINE_ENDED_BOOKING_ROUTE: a booking's late callers' route unless the booking chose one. */
  endedBookingRoute: AfterEndRoute;
}

export const OUT_OF_SESSION_DEFAULTS: OutOfSessionConfig = {
  policy: 'notice',
  supportNumber: null,
  askUrl: null,
  askTimeoutMs: 1500,
  askFallback: 'notice',
  endedBookingWindowSeconds: 0,
  endedBookingRoute: 'other_party',
};

/** What became of a call no live booking routes, for the answer, the call records and the booking's events. */
export interface OutOfSessionOutcome {
  plan: OutOfSessionPlan;
  /** The recently ended booking the caller was a party of, when there is one. */
  pairing: EndedPairing | null;
  /** Why the plan is what it is (logged; never a number). */
  reason: string;
}

class StoreTimeout extends Error {}

/**
 * Calls that no live booking routes: a late caller of a recently ended booking goes where that booking chose;
 * anyone else gets the deployment's policy. Never throws: every failure (store, platform) ends in a plan, at
 * worst the notice.
 */
export class OutOfSessionCalls {
  constructor(
    private readonly config: OutOfSessionConfig,
    private readonly deps: {
      endedPairings: Pick<EndedPairings, 'find'> | null;
      ask: Pick<PlatformAsk, 'ask' | 'requestOf'> | null;
      storeTimeoutMs: number;
      logger: Logger;
    },
  ) {}

  async plan(event: CallActionEvent): Promise<OutOfSessionOutcome> {
    const pairing = await this.endedPairing(event);
    if (pairing) {
      const plan = await this.route(pairing.route, event, pairing);
      return { plan, pairing, reason: `ended booking, route ${pairing.route}` };
    }
    const policy = this.config.policy;
    const route: AfterEndRoute = policy === 'forward' ? 'support' : policy;
    return { plan: await this.route(route, event, null), pairing: null, reason: `out-of-session policy ${policy}` };
  }

  private async route(route: AfterEndRoute, event: CallActionEvent, pairing: EndedPairing | null) {
    switch (route) {
      case 'other_party':
        return pairing ? connect(pairing.otherParty, 'other_party') : notice();
      case 'support':
        return this.forward();
      case 'notice':
        return notice();
      case 'ask':
        return this.askPlatform(event, pairing);
    }
  }

  private forward(): OutOfSessionPlan {
    return this.config.supportNumber === null ? notice() : connect(this.config.supportNumber, 'support');
  }

  private async askPlatform(event: CallActionEvent, pairing: EndedPairing | null): Promise<OutOfSessionPlan> {
    const url = pairing?.askUrl ?? this.config.askUrl;
    if (!this.deps.ask || url === null) return this.fallback('no ask URL is set');
    const request = this.deps.ask.requestOf(
      { sessionId: event.sessionId, caller: event.source, virtualNumber: event.destination },
      pairing,
    );
    const result = await this.deps.ask.ask(url, request);
    if (result.kind === 'failed') return this.fallback(result.reason);
    if (result.answer.action === 'say') return { kind: 'say', text: result.answer.text };
    const target = connectTarget(result.answer, pairing);
    if (target === null) return this.fallback('the platform named a role the caller has no recent booking with');
    return connect(target, 'ask');
  }

  private fallback(reason: string): OutOfSessionPlan {
    this.deps.logger.warn({ reason, fallback: this.config.askFallback }, 'ask failed; the caller falls back');
    return this.config.askFallback === 'forward' ? this.forward() : notice();
  }

  /** The ended booking's pairing, if the window is on; a store that does not answer in time means none. */
  private async endedPairing(event: CallActionEvent): Promise<EndedPairing | null> {
    if (this.config.endedBookingWindowSeconds <= 0 || !this.deps.endedPairings || event.source === null) return null;
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreTimeout()), this.deps.storeTimeoutMs);
      });
      return await Promise.race([this.deps.endedPairings.find(event.source, event.destination), deadline]);
    } catch (error) {
      this.deps.logger.warn(
        { err: error instanceof StoreTimeout ? 'timeout' : error, sessionId: event.sessionId },
        'store could not tell whether the caller had a recent booking; routing as a stranger',
      );
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}

function connect(destination: E164, via: 'other_party' | 'support' | 'ask'): OutOfSessionPlan {
  return { kind: 'connect', destination, via };
}

function notice(): OutOfSessionPlan {
  return { kind: 'notice' };
}
