// Separators people and 8x8's own examples put inside numbers; nothing else is tolerated.
const SEPARATORS = /[\s-]/g;
// E.164: a country code that never starts with 0, at most 15 digits in all; 7 is the shortest real national plan.
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Normalises a number as 8x8 writes it (`6591234567`, `+65 9123-4567`) to E.164 (`+6591234567`), or null when
 * it is not one. Runs on the call-routing hot path, so it is a regex, not libphonenumber: it checks the shape of
 * an international number, not whether the number exists.
 */
export function toE164(raw: string): string | null {
  const compact = raw.replace(SEPARATORS, '');
  const candidate = compact.startsWith('+') ? compact : `+${compact}`;
  return E164.test(candidate) ? candidate : null;
}
