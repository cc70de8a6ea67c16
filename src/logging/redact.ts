/**
 * Masks phone numbers in text bound for logs: `+6591234567` becomes `+65****4567`.
 *
 * Anything that looks like a phone number is masked, whatever its format (`+65 9123 4567`, `6591234567`,
 * `(65) 9123-4567`): a log line is no place to decide whether a digit run is a phone number or an id, so we
 * err on the side of privacy. Runs of fewer than seven digits (ports, counts, durations) are left alone.
 */
const PHONE_LIKE = /\+?\(?\d[\d\s().-]{5,}\d/g;

export function maskPhoneNumber(candidate: string): string {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 7) return candidate;
  const plus = candidate.trimStart().startsWith('+') ? '+' : '';
  return `${plus}${digits.slice(0, 2)}****${digits.slice(-4)}`;
}

/**
 * Left readable wherever they stand: UUIDs (8x8's session and call ids, Temporal's run ids), and dates with or
 * without a time (`2026-11-25`, `2026-11-25T10:00:00.123Z`, also inside ids such as a scheduled run's workflow
 * id). A phone number never has their shape. The lookarounds keep out of them a number written against one
 * (`+65 9123 2026-01-01`), yet let a date follow an id's digits (`sync-3a89f90b55-2026-11-25`).
 */
const UUID = /(?<![0-9a-f])(?<!\d[\s().-]*)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/;
const DATE_TIME =
  /(?<!(?:^|[^0-9a-z])[\d\s().+-]*\d[\s().-]*)(?<!\d)(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9}(?!\d))?)?(?:Z|[+-]\d{2}:?\d{2}(?!\d))?)?/;
const READABLE = new RegExp(`${UUID.source}|${DATE_TIME.source}`, 'gi');

/** A decimal such as a duration (`12.345678`); more digits than that on either side could be a number. */
const DECIMAL = /^\d{1,6}\.\d{1,6}$/;

export function redactText(text: string): string {
  let redacted = '';
  let from = 0;
  for (const readable of text.matchAll(READABLE)) {
    redacted += maskRun(text.slice(from, readable.index)) + readable[0];
    from = readable.index + readable[0].length;
  }
  return redacted + maskRun(text.slice(from));
}

function maskRun(text: string): string {
  return text.replace(PHONE_LIKE, (match) => (DECIMAL.test(match) ? match : maskPhoneNumber(match)));
}

/**
 * Deep copy of a log record with every string and every long integer redacted. Bytes (a Temporal payload's data,
 * a Buffer) are replaced by their length: a number inside them cannot be seen, so it cannot be masked (the SDK's
 * trace logs carry decoded payloads this way).
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'number' || typeof value === 'bigint') return redactInteger(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  // Deeper than any record of ours: not walked, so not logged either.
  if (depth > 8) return '[nested too deep to log]';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) {
    return { type: value.name, message: redactText(value.message), stack: value.stack && redactText(value.stack) };
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = redactValue(item, depth + 1);
  return copy;
}

/**
 * A number in a record is masked like a digit run in text when it is an integer of seven digits or more: a phone
 * number can travel as one (8x8 writes numbers without `+`, a JSON parser makes them numbers), and the integers of
 * that size that do reach the logs (random seeds, the halves of a protobuf Long, nanoseconds) are of no use there.
 */
function redactInteger(value: number | bigint): number | bigint | string {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return value;
  const digits = (value < 0 ? -value : value).toString();
  return digits.length < 7 ? value : maskPhoneNumber(value.toString());
}
