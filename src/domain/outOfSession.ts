import type { E164 } from './phoneNumbers';

/**
 * Calls that no live booking routes: what a deployment (and, for its late callers, a booking) does with them.
 * - `notice`: the caller hears the notice and the call ends (the default, and every fallback's last resort);
 * - `forward`: the caller is put through to the deployment's support number, which sees the VN as caller ID;
 * - `ask`: the platform is asked, within a short budget, and says whom to connect or what to say.
 */
export type OutOfSessionPolicy = 'notice' | 'forward' | 'ask';

/** Where a late caller of a recently ended booking goes, as the booking chose (or the deployment's default). */
export type AfterEndRoute = 'other_party' | 'support' | 'ask' | 'notice';

export const AFTER_END_ROUTES: readonly AfterEndRoute[] = ['other_party', 'support', 'ask', 'notice'];

/**
 * What a booking keeps for its late callers, stamped on its request at creation from the deployment's settings
 * and the booking's own choice (so the worker that ends the booking needs no setting of its own).
 */
export interface AfterEnd {
  /** How long after the booking ends its parties' calls to its VN are still routed. */
  windowSeconds: number;
  route: AfterEndRoute;
  /** Where `ask` posts for this booking; otherwise the deployment's URL. */
  askUrl?: string;
}

/** A recently ended booking that paired the caller with the dialled VN, as the store gives it back. */
export interface EndedPairing {
  bookingId: string;
  callerRole: string;
  otherRole: string;
  otherParty: E164;
  route: AfterEndRoute;
  askUrl: string | null;
  endedAt: Date;
}

/** The platform's answer to `ask`, once validated. */
export type PlatformAnswer =
  { action: 'connect'; role: string } | { action: 'connect'; number: E164 } | { action: 'say'; text: string };

/** What the call-action answer does with a call no live booking routes. */
export type OutOfSessionPlan =
  | { kind: 'connect'; destination: E164; via: 'other_party' | 'support' | 'ask' }
  | { kind: 'say'; text: string }
  | { kind: 'notice' };

/** Where a connect-to-party answer of the platform goes: only to the other party of the caller's recent booking. */
export function connectTarget(answer: PlatformAnswer, pairing: EndedPairing | null): E164 | null {
  if (answer.action !== 'connect') return null;
  if ('number' in answer) return answer.number;
  return pairing && answer.role === pairing.otherRole ? pairing.otherParty : null;
}
