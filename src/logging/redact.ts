/**
 * Masks phone numbers in text bound for logs: `+6591234567` becomes `+65****4567`, and keeps ids readable, so that
 * an operator can find a booking's lines by its id.
 *
 * What counts as a number: a run of seven digits or more, with any of a phone number's punctuation between them
 * (`+65 9123 4567`, `(65) 9123-4567`, `+65.9123.4567`, `6591234567`, percent-encoded or escaped). What counts as an
 * id's digits, left as they are: digits that follow a letter in the same word, a word being letters, digits, `-`
 * and `_` (`order-12345678`, `booking-race-711-1009`, `story-3a89f90b55`): neither 8x8 nor a booking platform
 * writes a phone number joined to letters. A workflow id `booking-<bookingId>` is read as its booking id, so a
 * booking id that is itself a number is masked there too (`booking-65****4567`). UUIDs (8x8's session and call
 * ids, Temporal's run ids) and dates with or without a time stay readable, unless written against a number's
 * digits; short runs (ports, counts, durations) and decimals of up to six digits a side are left alone.
 *
 * The cost is linear: one pass over the text, with lookaheads of a few characters at word starts, and a field longer
 * than FIELD_LIMIT is cut before it is scanned (the same event loop answers 8x8's calls).
 */

/** Longer strings are cut to this many characters before they are scanned, and say so. */
export const FIELD_LIMIT = 16_384;

export function maskPhoneNumber(candidate: string): string {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 7) return candidate;
  const plus = candidate.trimStart().startsWith('+') ? '+' : '';
  return `${plus}${digits.slice(0, 2)}****${digits.slice(-4)}`;
}

export function redactText(text: string): string {
  if (text.length <= FIELD_LIMIT) return scan(text).text;
  const end = cutPoint(text);
  return `${scan(text.slice(0, end)).text}… [cut ${text.length - end} of ${text.length} characters]`;
}

/** How many characters masking `text` examines, uncut: the measure of its cost that tests hold to a bound. */
export function redactionWork(text: string): number {
  return scan(text).examined;
}

/**
 * Where to cut an overlong text: not inside a number, whose part before the cut could have too few digits to be
 * masked. A number the cut falls in goes whole unless seven of its digits come before the cut.
 */
function cutPoint(text: string): number {
  let end = FIELD_LIMIT;
  if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  if (!isNumberish(text.charCodeAt(end))) return end;
  let start = end;
  let digits = 0;
  while (start > 0 && digits < 7 && isNumberish(text.charCodeAt(start - 1))) {
    if (KIND[text.charCodeAt(start - 1)] === DIGIT) digits += 1;
    start -= 1;
  }
  return digits < 7 ? start : end;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isNumberish = (code: number) => {
  const unit = KIND[code] ?? (isSpace(code) ? SEPARATOR : BREAK);
  return unit === DIGIT || unit === SEPARATOR || unit === JOINER || unit === PLUS;
};

// What each character is to the scanner. A separator may stand between a number's digits and ends a word; a joiner
// (`-`, `_`) may stand between a number's digits and joins a word; a break ends both.
const DIGIT = 1;
const LETTER = 2;
const JOINER = 3;
const SEPARATOR = 4;
const PLUS = 5;
const BREAK = 6;
type Kind = typeof DIGIT | typeof LETTER | typeof JOINER | typeof SEPARATOR | typeof PLUS | typeof BREAK;

const KIND: Kind[] = [];
for (let code = 0; code < 128; code++) KIND.push(BREAK);
for (let code = 48; code <= 57; code++) KIND[code] = DIGIT;
for (let code = 65; code <= 90; code++) KIND[code] = LETTER;
for (let code = 97; code <= 122; code++) KIND[code] = LETTER;
for (const char of '-_') KIND[char.charCodeAt(0)] = JOINER;
for (const char of ' \t\n\v\f\r.()') KIND[char.charCodeAt(0)] = SEPARATOR;
KIND['+'.charCodeAt(0)] = PLUS;

/** What JavaScript's `\s` takes beyond ASCII, and dashes: a number may be written with them. */
function isSpace(code: number): boolean {
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    (code >= 0x2010 && code <= 0x2015) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x2212 ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** An escaped character (`%2B`, `\u002B`, `\x2b`, `\n`) stands for what it encodes; other escapes break. */
function escapedKind(code: number): Kind {
  if (code === 0x2b) return PLUS;
  return code === 0x20 || code === 0x28 || code === 0x29 || code === 0x2e || code === 0x2d ? SEPARATOR : BREAK;
}

function hexAt(text: string, at: number, count: number): number {
  if (at + count > text.length) return -1;
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const code = text.charCodeAt(i);
    const digit =
      code >= 48 && code <= 57 ? code - 48 : (code | 0x20) >= 97 && (code | 0x20) <= 102 ? (code | 0x20) - 87 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/**
 * The kind and length of the unit at `i` (one character, or an escape sequence), packed as `kind + 8 * length`
 * so that the pass allocates nothing per character.
 */
function unitAt(text: string, i: number): number {
  const code = text.charCodeAt(i);
  if (code < 128 && code !== 0x25 && code !== 0x5c) return (KIND[code] as Kind) + 8;
  if (code === 0x25) {
    const value = hexAt(text, i + 1, 2);
    return value < 0 ? BREAK + 8 : escapedKind(value) + 24;
  }
  if (code === 0x5c) {
    const next = text.charCodeAt(i + 1);
    if (next === 0x75) {
      const value = hexAt(text, i + 2, 4);
      if (value >= 0) return escapedKind(value) + 48;
    } else if (next === 0x78) {
      const value = hexAt(text, i + 2, 2);
      if (value >= 0) return escapedKind(value) + 32;
    } else if (next === 0x6e || next === 0x72 || next === 0x74 || next === 0x66 || next === 0x76) {
      return SEPARATOR + 16;
    } else if (next === 0x62) {
      return BREAK + 16;
    }
    return BREAK + 8;
  }
  return (isSpace(code) ? SEPARATOR : BREAK) + 8;
}

const WORKFLOW_PREFIX = 'booking-';

/**
 * How far `booking-` (any case) goes at `i`: its length when it is there (the rest of the word is then a booking
 * id, read as if it stood alone), or how many characters the look read before it failed, negated.
 */
function workflowPrefixAt(text: string, i: number): number {
  for (let k = 0; k < WORKFLOW_PREFIX.length; k++) {
    const code = text.charCodeAt(i + k);
    const expected = WORKFLOW_PREFIX.charCodeAt(k);
    if ((k < WORKFLOW_PREFIX.length - 1 ? code | 0x20 : code) !== expected) return -(k + 1);
  }
  return WORKFLOW_PREFIX.length;
}

/** The length of a UUID at `i` (36), or how far the look got before it failed, negated. */
function uuidAt(text: string, i: number): number {
  for (let k = 0; k < 36; k++) {
    const code = text.charCodeAt(i + k);
    const ok = k === 8 || k === 13 || k === 18 || k === 23 ? code === 0x2d : hexAt(text, i + k, 1) >= 0;
    if (!ok) return -(k + 1);
  }
  const after = text.charCodeAt(i + 36);
  return KIND[after] === DIGIT || KIND[after] === LETTER || after === 0x5f ? -37 : 36;
}

const DECIMAL = /^\d{1,6}\.\d{1,6}$/;
const DATE = /^(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;

/** Whether a run of digits and separators stays as written: too few digits, a decimal, a date; never after `+`. */
function staysReadable(run: string, digits: number, plus: boolean): boolean {
  if (digits < 7) return true;
  if (plus || run.length > 13) return false;
  return DECIMAL.test(run) || DATE.test(run);
}

/** One pass: each unit is read once, and lookaheads at word starts never overlap. */
function scan(text: string): { text: string; examined: number } {
  let out = '';
  let copied = 0;
  let examined = 0;
  // The word being read, and whether a letter came before this point of it.
  let inWord = false;
  let afterLetter = false;
  let prefixRead = false;
  // The number being read: from `spanStart` (with its `+` or `(`) to `digitsEnd`.
  let spanStart = -1;
  let digitStart = -1;
  let digitsEnd = -1;
  let digits = 0;
  let plus = false;

  const endRun = () => {
    if (spanStart < 0) return;
    const run = text.slice(digitStart, digitsEnd);
    if (!staysReadable(run, digits, plus)) {
      out += text.slice(copied, spanStart) + maskPhoneNumber(text.slice(spanStart, digitsEnd));
      copied = digitsEnd;
    }
    examined += digitsEnd - spanStart;
    spanStart = -1;
    digits = 0;
  };

  let i = 0;
  while (i < text.length) {
    const unit = unitAt(text, i);
    const kind = unit & 7;
    const length = unit >> 3;
    examined += length;
    // An escape that was not one was still looked at, up to `\uXXXX`.
    if (kind === BREAK && length === 1 && (text.charCodeAt(i) === 0x25 || text.charCodeAt(i) === 0x5c)) examined += 5;
    if (kind === DIGIT) {
      // A date ends where a space follows it (`2026-11-25 10:00`, `2026-11-25 <session id>`); other runs go on
      // over spaces, as a number's digits do.
      if (spanStart >= 0 && !inWord && !plus && digitsEnd - digitStart === 10) {
        examined += 10;
        if (DATE.test(text.slice(digitStart, digitsEnd))) endRun();
      }
      if (afterLetter) {
        inWord = true;
      } else if (spanStart >= 0) {
        digits += 1;
        digitsEnd = i + 1;
        inWord = true;
      } else {
        // After `+` it is a number, whatever its shape.
        if (!inWord && text.charCodeAt(i - 1) !== 0x2b) {
          const uuid = uuidAt(text, i);
          examined += Math.abs(uuid);
          if (uuid > 0) {
            i += uuid;
            inWord = true;
            afterLetter = true;
            continue;
          }
        }
        spanStart = digitStart = i;
        plus = false;
        if (text.charCodeAt(spanStart - 1) === 0x28) spanStart -= 1;
        if (text.charCodeAt(spanStart - 1) === 0x2b) {
          spanStart -= 1;
          plus = true;
        }
        digits = 1;
        digitsEnd = i + 1;
        inWord = true;
      }
    } else if (kind === LETTER) {
      endRun();
      if (!inWord && !prefixRead) {
        const prefix = workflowPrefixAt(text, i);
        examined += Math.abs(prefix);
        if (prefix > 0) {
          i += prefix;
          prefixRead = true;
          continue;
        }
      }
      inWord = true;
      afterLetter = true;
    } else if (kind === JOINER) {
      inWord = true;
    } else {
      if (kind !== SEPARATOR) endRun();
      inWord = false;
      afterLetter = false;
      prefixRead = false;
    }
    i += length;
  }
  endRun();
  return { text: copied === 0 ? text : out + text.slice(copied), examined };
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
