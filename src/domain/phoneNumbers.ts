import { parsePhoneNumberFromString as parseWith, type CountryCode, type MetadataJson } from 'libphonenumber-js/core';
import minimalMetadata from 'libphonenumber-js/min/metadata';
import { parsePhoneNumberFromString as parseInFull } from 'libphonenumber-js/max';

// One normalisation for every phone number Maskline reads: the parties a booking platform registers, the
// numbers of the pool, and the numbers 8x8 writes in its webhooks. A caller is routed by comparing the number 8x8
// reports with the one registered, so both must come out as the same string, however each was written.

/** A phone number in E.164 form (`+6591234567`): the one form Maskline stores, compares and sends. */
export type E164 = string;

/** Longer than any number written with separators (15 digits at most): refused before any work is done. */
export const MAX_WRITTEN_LENGTH = 32;
/** What people and 8x8 put between digits: spaces, dashes, dots, slashes, brackets (`+44 (0)20 7946 0958`). */
const SEPARATORS = /[\s\-./()]/g;
/** E.164: a calling code that never starts with 0, at most 15 digits in all; 7 is the shortest real plan. */
const INTERNATIONAL = /^\+[1-9]\d{6,14}$/;

/**
 * libphonenumber's data with each calling code read by its main country's plan only. The E.164 form is the calling
 * code and the national (significant) number, and libphonenumber takes the latter from the calling code's main
 * country before it works out which country of a shared code (+1, +44, +7) the number is in; that last step
 * matches the number against each of those countries' patterns and is most of the cost, for nothing we use here.
 * The same E.164 as the full data for every number: test/phoneNumbers.normalisation.test.ts checks it.
 */
const BY_CALLING_CODE: MetadataJson = {
  ...minimalMetadata,
  country_calling_codes: Object.fromEntries(
    Object.entries(minimalMetadata.country_calling_codes).map(([callingCode, countries]) => [
      callingCode,
      countries.slice(0, 1) as CountryCode[],
    ]),
  ),
};

/**
 * A phone number as people and 8x8 write it (`6591234567`, `+65 9123-4567`, `+44 (0)20 7946 0958`) in E.164
 * (`+6591234567`), or null when it is not an international number. A trunk prefix written after the calling code
 * is dropped (`+44 07911 123456` is `+447911123456`), as libphonenumber drops it. It checks the form, not that the
 * number is in use: 8x8 reports numbers of ranges newer than libphonenumber's data, and a call to or from one must
 * still be routed. On the call-routing path: about 4 µs a number (bench/phoneNumberNormalisation.ts).
 */
export function toE164(raw: string): E164 | null {
  const written = raw.trim();
  if (written.length > MAX_WRITTEN_LENGTH) return null;
  const compact = written.replace(SEPARATORS, '');
  const international = compact.startsWith('+') ? compact : `+${compact}`;
  if (!INTERNATIONAL.test(international)) return null;
  const e164 = parseWith(international, { extract: false }, BY_CALLING_CODE)?.number;
  // A calling code libphonenumber does not know, or a number it cannot read, keeps its digits as written.
  return e164 !== undefined && INTERNATIONAL.test(e164) ? e164 : international;
}

/** Whether `text` is already written as E.164 (`+` and 7 to 15 digits); says nothing of trunk prefixes. */
export function isE164(text: string): boolean {
  return INTERNATIONAL.test(text);
}

export interface ValidPhoneNumber {
  e164: E164;
  /** ISO 3166-1 alpha-2 country of the number, when its numbering plan tells. */
  countryCode: string | null;
}

/**
 * A phone number a booking platform or an operator gives: read as {@link toE164} reads it, and then it must be a
 * valid number of its country's numbering plan, not just a run of digits.
 */
export function parseValidPhoneNumber(raw: string): ValidPhoneNumber | null {
  const e164 = toE164(raw);
  if (e164 === null) return null;
  const parsed = parseInFull(e164);
  if (!parsed?.isValid() || parsed.number !== e164) return null;
  return { e164, countryCode: parsed.country ?? null };
}

/** The country a number belongs to, or null when its calling code is shared and the plan does not tell. */
export function countryOfNumber(e164: E164): string | null {
  return parseInFull(e164)?.country ?? null;
}
