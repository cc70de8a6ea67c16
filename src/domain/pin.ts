/**
 * PIN fallback: when no number is free for both parties, a booking that opted in shares a number of the PIN set
 * with other bookings, and its callers say which booking they mean by a PIN. The rules here are plain functions;
 * the store keeps the PINs unique (src/store/pinHoldings.ts) and src/calls/pinCalls.ts answers the calls.
 *
 * A PIN alone never connects anyone: the caller must also be a party of the PIN's booking, so a guessed PIN can
 * only reach a booking the caller is in. Guessing is bounded all the same, per call and per caller over a window.
 */

export type NumberFallback = 'none' | 'pin';

export const PIN_DIGITS = 4;
/** Fresh PINs tried on one number before the next one of the set (a number is full near 10^PIN_DIGITS). */
export const PIN_DRAWS_PER_NUMBER = 16;
/** PINs a caller may enter on one call: after the last wrong one, the notice. */
export const PIN_TRIES_PER_CALL = 3;
/** Wrong PINs one caller may enter over a window, on any number and any call; beyond it, the notice at once. */
export const PIN_ATTEMPTS_PER_CALLER = 10;
export const PIN_ATTEMPT_WINDOW_MS = 15 * 60_000;

/** A PIN of {@link PIN_DIGITS} digits; `randomInt(n)` must be uniform on 0..n-1 and unpredictable (crypto). */
export function drawPin(randomInt: (max: number) => number): string {
  return String(randomInt(10 ** PIN_DIGITS)).padStart(PIN_DIGITS, '0');
}

export function isPinShaped(digits: string | null | undefined): digits is string {
  return typeof digits === 'string' && digits.length === PIN_DIGITS && /^[0-9]+$/.test(digits);
}

/**
 * The `clientActionId` of the PIN prompt, which 8x8 echoes with the digits: `pin-<try>`. 8x8 keeps it in its logs,
 * so it says what the digits are for and which try this is, nothing else.
 */
export function pinActionId(attempt: number): string {
  return `pin-${attempt}`;
}

/** The try a `clientActionId` of ours names, or null when it is not a PIN prompt's. */
export function pinAttemptOf(clientActionId: string | undefined): number | null {
  const match = /^pin-([1-9][0-9]{0,2})$/.exec(clientActionId ?? '');
  return match ? Number(match[1]) : null;
}

export function isPinAction(clientActionId: string | undefined): boolean {
  return (clientActionId ?? '').startsWith('pin');
}

/** The start of the guessing window `at` falls in: a caller's wrong PINs are counted per window. */
export function attemptWindowOf(at: number): number {
  return at - (at % PIN_ATTEMPT_WINDOW_MS);
}

/** What follows a PIN entry that connected no one. */
export function afterWrongPin(attempt: number, callerAttemptsInWindow: number): 'ask_again' | 'notice' {
  if (callerAttemptsInWindow >= PIN_ATTEMPTS_PER_CALLER) return 'notice';
  return attempt < PIN_TRIES_PER_CALL ? 'ask_again' : 'notice';
}
