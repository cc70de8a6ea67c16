/**
 * The whole-suite net under "no phone number appears unmasked in any log line": finds phone numbers in text that
 * should hold only masked ones (`+65****4567`). `npm test` runs every captured log line of the run through it, and
 * `npm run chaos` every line of its processes.
 *
 * A candidate is a `+` and 8 to 15 digits, or a bare run of 10 to 15 digits (8x8 writes numbers without `+`) that
 * is not part of a longer word or number (ids such as `session-6591234567`, decimals), or a booking's workflow id
 * whose booking id is such a run (`booking-6591234567`: a booking id that is itself a number); it counts only if
 * it is a possible phone number of the numbering plan it would belong to, so epoch milliseconds, ports and
 * durations do not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

const CANDIDATE = /(?<![\w+])(\+\d{8,15})(?![\w.])|(?<![\w.+-])(?:booking-)?(\d{10,15})(?![\w.])/g;

/** The phone numbers in the text, as they appear there. */
export function unmaskedPhoneNumbers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(CANDIDATE)) {
    const digits = match[1] ?? match[2] ?? '';
    const parsed = parsePhoneNumberFromString(digits.startsWith('+') ? digits : `+${digits}`);
    if (parsed?.isPossible()) found.push(digits);
  }
  return found;
}

/** The line with each phone number found in it masked, so that a report of a leak does not leak it again. */
export function maskedForReport(line: string): string {
  return line.replace(CANDIDATE, (match) =>
    unmaskedPhoneNumbers(match).length > 0 ? `${match.slice(0, 3)}****${match.slice(-4)}` : match,
  );
}

/** Every line of the files in `dir` (and of `extra`) that holds an unmasked phone number, masked, with its source. */
export function scanLogDirectory(dir: string, extra: { source: string; lines: readonly string[] }[] = []): string[] {
  const sources = [
    ...fs
      .readdirSync(dir)
      .map((name) => ({ source: name, lines: fs.readFileSync(path.join(dir, name), 'utf8').split('\n') })),
    ...extra,
  ];
  const findings: string[] = [];
  for (const { source, lines } of sources) {
    for (const line of lines) {
      if (unmaskedPhoneNumbers(line).length > 0) findings.push(`${source}: ${maskedForReport(line).slice(0, 2_000)}`);
    }
  }
  return findings;
}

/** How many lines the files in `dir` hold, for the report. */
export function countLines(dir: string): number {
  return fs
    .readdirSync(dir)
    .reduce(
      (count, name) => count + fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean).length,
      0,
    );
}
