import type { Party } from './booking';

/**
 * The menu a caller who may reach several parties of a booking hears: one digit per party, in the booking's
 * order, named by role (never by number: 8x8 speaks it, and may log it).
 */
export interface PartyMenu {
  prompt: string;
  /** Digits 1 to 9: a booking has at most five parties, so one key press always suffices. */
  choices: number;
}

export function partyMenu(targets: readonly Party[]): PartyMenu {
  const options = targets.map((target, index) => `${index + 1} for the ${speakable(target.role)}`);
  return { prompt: `Press ${options.join(', ')}.`, choices: targets.length };
}

/** The party the caller chose with `digits`, or null for anything but one digit of the menu. */
export function chosenTarget(targets: readonly Party[], digits: string | null | undefined): Party | null {
  const text = (digits ?? '').replace(/#$/, '').trim();
  if (!/^[1-9]$/.test(text)) return null;
  return targets[Number(text) - 1] ?? null;
}

// Roles are the platform's words (`pickup_driver`): said as words, not spelled out.
function speakable(role: string): string {
  return role.replace(/[_-]+/g, ' ');
}
