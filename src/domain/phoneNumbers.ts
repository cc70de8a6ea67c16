import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * A phone number in E.164 form (`+6591234567`): the one form Maskline stores, compares and sends. Every number
 * read from outside becomes one in src/domain/phoneNumberNormalisation.ts.
 */
export type E164 = string;

/** The country a number belongs to, or null when its calling code is shared and the plan does not tell. */
export function countryOfNumber(e164: E164): string | null {
  return parsePhoneNumberFromString(e164)?.country ?? null;
}
