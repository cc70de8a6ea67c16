import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { maskPhoneNumber, redactText, redactValue } from '../src/logging/redact';
import { findPhoneNumber } from './support/privacy';

describe('what reaches the logs', () => {
  it('masks a phone number in any format, keeping the country code and the last four digits', () => {
    assert.equal(maskPhoneNumber('+6591234567'), '+65****4567');
    for (const text of ['+6591234567', '6591234567', '+65 9123 4567', '(65) 9123-4567', '%2B6591234567']) {
      assert.doesNotMatch(redactText(`caller ${text} rang`), /9123/, text);
    }
  });

  it('leaves timestamps, small counts and 8x8 session ids readable', () => {
    const line = 'at 2026-11-25T10:00:00.000Z port 3000 took 12345 session a4fad4b3-b388-1234-5678-2fb8260fcf59';
    assert.equal(redactText(line), line);
  });

  it('does not take a number written against a UUID for part of it', () => {
    for (const text of ['+6591234567-b388-1234-5678-2fb8260fcf59', 'a4fad4b3-b388-1234-5678-2fb8260fcf596591234567']) {
      assert.doesNotMatch(redactText(text), /9123/, text);
    }
  });

  it('leaves a timestamp inside an id readable, but not a number written right after a timestamp', () => {
    const scheduled = 'workflow number-sync-3a89f90b55-2026-11-25T20:17:35Z ran at 2026-11-25T20:17:35.123+08:00';
    assert.equal(redactText(scheduled), scheduled);
    for (const text of [
      '+65 9123 2026-11-25',
      '+65 9123 4567-01-01',
      '2026-11-25T20:17+6591234567',
      '2026-11-25T20:17:35Z6591234567',
      '2026-11-25T20:17:35.6591234567',
    ]) {
      assert.doesNotMatch(redactText(text), /9123/, text);
    }
  });

  it('masks numbers in every field of a structured log record, however deep', () => {
    const record = redactValue({
      caller: '+6591234567',
      legs: [{ to: '6598765432' }],
      error: new Error('no route for +6591234567'),
    });
    assert.doesNotMatch(JSON.stringify(record), /91234567|98765432/);
  });

  it('masks integers of seven digits or more in a record, as a phone number sent as a number would be', () => {
    const record = redactValue({
      number: 6591234567,
      big: 6591234567n,
      // The SDK's trace lines: a protobuf Long's halves, one of them shaped like a phone number.
      randomnessSeed: { low: 2133663906, high: 2004375159, unsigned: true },
    });
    assert.doesNotMatch(
      JSON.stringify(record, (_key, item) => (typeof item === 'bigint' ? `${item}` : item)),
      /9123|43751|36639/,
    );
    assert.deepEqual(record, {
      number: '65****4567',
      big: '65****4567',
      randomnessSeed: { low: '21****3906', high: '20****5159', unsigned: true },
    });
  });

  it('leaves small numbers, decimals and dates readable', () => {
    const at = new Date('2026-11-25T10:00:00.000Z');
    assert.deepEqual(redactValue({ port: 3000, durationMs: 12.5, count: 123456, at, never: new Date(Number.NaN) }), {
      port: 3000,
      durationMs: 12.5,
      count: 123456,
      at: '2026-11-25T10:00:00.000Z',
      never: 'Invalid Date',
    });
  });

  it('masks a number written in any format, whatever text stands around it', () => {
    // Text made of what ids, timestamps and JSON are made of, so that the number is written against them.
    const surroundings = fc.string({ unit: fc.constantFrom(...'0123456789abcdefTZ:.-+ ()",{}[]'), maxLength: 40 });
    const written = fc.constantFrom(
      (national: string) => `+65${national}`,
      (national: string) => `65${national}`,
      (national: string) => `+65 ${national.slice(0, 4)} ${national.slice(4)}`,
      (national: string) => `(65) ${national.slice(0, 4)}-${national.slice(4)}`,
      (national: string) => `+65.${national.slice(0, 4)}.${national.slice(4)}`,
    );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[689]\d{7}$/),
        surroundings,
        written,
        surroundings,
        (national, before, write, after) => {
          const found = findPhoneNumber(redactText(`${before}${write(national)}${after}`), `+65${national}`);
          // Text that spells the number by itself around the masked one would be found too; that is not a leak.
          return found === null || findPhoneNumber(`${before} ${after}`, `+65${national}`) !== null;
        },
      ),
      { numRuns: Number(process.env.MASKLINE_HOSTILE_RUNS ?? 500) },
    );
  });
});
