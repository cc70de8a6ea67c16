import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** A phone number in E.164 form (`+6591234567`): the one form Maskline stores, compares and sends. */
export type E164 = string;

export interface ParsedPhoneNumber {
  e164: E164;
  /** ISO 3166-1 alpha-2 country of the number, when its numbering plan tells. */
  countryCode: string | null;
}

/**
 * Parses a phone number given by a person or a platform: spaces, dashes and brackets are allowed, the
 * leading `+` may be missing (8x8 itself writes numbers both ways), and the number must be a valid number
 * of its country's numbering plan, not just a run of digits.
 */
export function parsePhoneNumber(raw: string): ParsedPhoneNumber | null {
  const trimmed = raw.trim();
  if (trimmed.length === 0 || trimmed.length > 32) return null;
  const international = trimmed.startsWith('+') ? trimmed : `+${trimmed}`;
  const parsed = parsePhoneNumberFromString(international);
  if (!parsed || !parsed.isValid()) return null;
  return { e164: parsed.number, countryCode: parsed.country ?? null };
}

/** The country a number belongs to, or null when its calling code is shared and the plan does not tell. */
export function countryOfNumber(e164: E164): string | null {
  return parsePhoneNumberFromString(e164)?.country ?? null;
}
