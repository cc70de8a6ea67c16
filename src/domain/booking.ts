import type { AfterEnd } from './outOfSession';
import type { E164 } from './phoneNumbers';

/** One of the people a booking connects, e.g. the rider and the driver, or a customer, courier and restaurant. */
export interface Party {
  role: string;
  number: E164;
}

/** Two to {@link MAX_PARTIES} parties, with distinct roles and distinct numbers. */
export type Parties = [Party, Party, ...Party[]];

export type GeoMatch = 'prefer' | 'strict';

/** What the booking platform asks for; validated at the HTTP edge or by the typed client. */
export interface BookingRequest {
  bookingId: string;
  parties: Parties;
  /**
   * Who may reach whom, by role: `reach[role]` lists the roles that party's calls may go to, in the order its menu
   * offers them. Unset: every party reaches every other one (for two parties, each other, as always).
   */
  reach?: Reach;
  expiresInSeconds: number;
  gracePeriodSeconds: number;
  geoMatch: GeoMatch;
  /** Where this booking's events go instead of the deployment's receiver (https; http on loopback). */
  callbackUrl?: string;
  /** Whether its events name the parties' numbers beside their roles (a deployment setting, stamped at creation). */
  eventNumbers?: boolean;
  /**
   * False when, at creation, neither the booking nor the deployment named a receiver: its events are recorded
   * (readable back) but no delivery is attempted. Unset: delivered.
   */
  eventDelivery?: boolean;
  /**
   * Late callers: for a window after the booking ends, its parties' calls to its VN go where this says. Stamped
   * at creation from the deployment's window (MASKLINE_ENDED_BOOKING_WINDOW) and the booking's `outOfSession`;
   * unset: the window is off.
   */
  afterEnd?: AfterEnd;
  /**
   * Whether its calls are recorded (8x8's `makeCall` with `callRecording`). Set only when true, so that the
   * request of a booking that does not record reads as it always has.
   */
  record?: true;
  /**
   * `prefer-sticky`: a pair of people who had a booking together before get the virtual number they had last
   * time, when it is free for both. Unset: `spread` (the least-loaded number), as for every booking before.
   */
  numberSelection?: 'prefer-sticky';
  /**
   * `pin`: when no number is free for both parties, the booking shares a number of the PIN set and its callers
   * enter its PIN (src/domain/pin.ts). Stamped at creation from the booking's `fallback` or the deployment's
   * MASKLINE_NUMBER_FALLBACK; unset: refused `no_number_available`, as every booking before.
   */
  fallback?: 'pin';
}

/** By role, the roles a party may call through the booking's number; a role not named reaches nobody. */
export type Reach = Record<string, string[]>;

/** A booking's people and who may reach whom, as a request or a booking's view gives them. */
export interface PartiesOf {
  parties: readonly Party[];
  reach?: Reach;
}

/** A booking connects at most this many people (a delivery: customer, courier, restaurant, and some room). */
export const MAX_PARTIES = 5;

/**
 * The parties a caller of the booking may be put through to, in the order a menu offers them: the booking's
 * `reach` for the caller's role, or, without one, every other party in the booking's order.
 */
export function targetsOf(request: PartiesOf, callerRole: string): Party[] {
  const others = request.parties.filter((party) => party.role !== callerRole);
  if (!request.reach) return others;
  return (request.reach[callerRole] ?? []).flatMap((role) => others.filter((party) => party.role === role));
}

export type NumberSelection = 'spread' | 'prefer-sticky';

export const BOOKING_DEFAULTS = {
  expiresInSeconds: 4 * 60 * 60,
  gracePeriodSeconds: 10 * 60,
  geoMatch: 'prefer' as GeoMatch,
};

export const BOOKING_LIMITS = {
  expiresInSeconds: { min: 1, max: 30 * 24 * 60 * 60 },
  gracePeriodSeconds: { min: 0, max: 24 * 60 * 60 },
};

/**
 * - allocating: looking for a virtual number
 * - active: the pairing is held and calls connect
 * - completing: the ride is over, calls still connect until the grace period ends
 * - completed / cancelled / expired: the number is released (or being released)
 * - refused: no number was free for both parties; nothing was held
 */
export type BookingStatus = 'allocating' | 'active' | 'completing' | 'completed' | 'cancelled' | 'expired' | 'refused';

export const LIVE_STATUSES: readonly BookingStatus[] = ['active', 'completing'];
export const ENDED_STATUSES: readonly BookingStatus[] = ['completed', 'cancelled', 'expired', 'refused'];

export function isEnded(status: BookingStatus): boolean {
  return ENDED_STATUSES.includes(status);
}

/**
 * Two requests for one bookingId are the same booking when they pair the same people in the same roles, and let
 * them reach each other alike (the order of a role's targets is only the menu's order, and counts too).
 */
export function isSameBooking(a: PartiesOf, b: PartiesOf): boolean {
  const key = (request: PartiesOf) =>
    request.parties
      .map(
        (party) =>
          `${party.role}\u0000${party.number}\u0000${targetsOf(request, party.role)
            .map((t) => t.role)
            .join('\u0002')}`,
      )
      .sort()
      .join('\u0001');
  return key(a) === key(b);
}

/** A call between the parties as the booking records it (numbers never appear here, only roles). */
export interface CallRecord {
  sessionId: string;
  callerRole: string | null;
  /** Whom the caller chose from the menu of a booking of several parties. */
  calleeRole?: string;
  startedAt: string;
  status: string;
  endedAt?: string;
  durationSeconds?: number;
  /** The call's recordings, as 8x8 reported them uploaded: references to files in the recording store. */
  recordings?: CallRecording[];
}

/** A recording 8x8 uploaded to the account's recording push destination (its S3 bucket or SFTP server). */
export interface CallRecording {
  recordingId: string;
  /** 8x8's word for it, e.g. `completed`. */
  status: string;
  /** Where 8x8 put the file, when it said: a reference only, Maskline never fetches or keeps the audio. */
  fileUrl: string | null;
  durationSeconds: number | null;
  startedAt: string | null;
}
