import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { unmaskedPhoneNumbers } from '../scripts/logScan';
import { maskPhoneNumber, redactionWork, redactText, redactValue } from '../src/logging/redact';
import { findPhoneNumber } from '../harness/privacy';

/** How a number is written in the five ways the property tests use, from its national part. */
const writtenAs = {
  e164: (national: string) => `+65${national}`,
  bare: (national: string) => `65${national}`,
  spaced: (national: string) => `+65 ${national.slice(0, 4)} ${national.slice(4)}`,
  national: (national: string) => `(65) ${national.slice(0, 4)}-${national.slice(4)}`,
  dotted: (national: string) => `+65.${national.slice(0, 4)}.${national.slice(4)}`,
};
const anyWriting = fc.constantFrom(...Object.values(writtenAs));
const nationalNumber = fc.stringMatching(/^[689]\d{7}$/);

// The shapes of the ids that reach our logs: bookings (`order-12345678`, `race-1-889`), their workflows
// (`booking-<bookingId>`), Temporal's run ids and 8x8's session and call ids (UUIDs, some with a group all digits),
// schedules' workflow ids with a timestamp, random test ids (`story-3a89f90b55`), and timestamps.
const letters = fc.stringMatching(/^[A-Za-z]{1,8}$/).filter((word) => word.toLowerCase() !== 'booking');
const idPart = fc.oneof(
  fc.stringMatching(/^\d{1,12}$/),
  fc.stringMatching(/^[0-9a-f]{1,12}$/),
  fc.stringMatching(/^[a-z]{1,6}$/),
);
const namedId = fc.oneof(
  fc
    .tuple(letters, fc.array(fc.tuple(fc.constantFrom('-', '_'), idPart), { minLength: 1, maxLength: 4 }))
    .map(([head, parts]) => head + parts.map(([joiner, part]) => joiner + part).join('')),
  fc.tuple(letters, fc.stringMatching(/^[0-9a-f]{1,16}$/)).map(([head, hex]) => head + hex),
);
const uuid = fc.oneof(fc.uuid(), fc.stringMatching(/^\d{8}-\d{4}-[1-8]\d{3}-[89]\d{3}-\d{12}$/));
const instant = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
const timestamp = fc.oneof(
  instant,
  instant.map((iso) => iso.slice(0, 10)),
  instant.map((iso) => iso.slice(0, 19).replace('T', ' ')),
  instant.map((iso) => iso.replace(/\.\d+Z$/, 'Z')),
);
const id = fc.oneof(
  namedId,
  uuid,
  timestamp,
  fc.oneof(namedId, uuid).map((bookingId) => `booking-${bookingId}`),
  fc.tuple(namedId, instant).map(([schedule, at]) => `${schedule}-workflow-${at.replace(/\.\d+Z$/, 'Z')}`),
);
/** Between the pieces of a line: what a log line's text and JSON put between values. */
const hardJoint = fc.constantFrom(', ', '","', '":"', ' | ', '=', ': ', '/', ';', '"}, {"n":"', '] [', '\\"', "', '");
const softJoint = fc.constantFrom(' ', '  ', '\n', ' (', ' - ');

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
    for (const text of [
      '+6591234567-b388-1234-5678-2fb8260fcf59',
      '+65 91234567-b388-1234-5678-2fb8260fcf59',
      '6591234567 a4fad4b3-b388-1234-5678-2fb8260fcf59',
      'a4fad4b3-b388-1234-5678-2fb8260fcf59 6591234567',
      'a4fad4b3-b388-1234-5678-2fb8260fcf59+6591234567',
    ]) {
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
      '2026-11-25T20:17:35Z 6591234567',
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

  it('masks a number written in any format, whatever text stands around it, unless a letter makes it part of an id', () => {
    // Text made of what ids, timestamps and JSON are made of, so that the number is written against them.
    const surroundings = fc.string({ unit: fc.constantFrom(...'0123456789abcdefTZ:.-+ ()",{}[]'), maxLength: 40 });
    fc.assert(
      fc.property(nationalNumber, surroundings, anyWriting, surroundings, (national, before, write, after) => {
        const redacted = redactText(`${before}${write(national)}${after}`);
        // Digits that follow a letter in the same word (`a-6591234567`) are an id's, and stay as they are.
        if (write === writtenAs.bare && /[A-Za-z][\w-]*$/.test(before)) return redacted.includes(write(national));
        const found = findPhoneNumber(redacted, `+65${national}`);
        // Text that spells the number by itself around the masked one would be found too; that is not a leak.
        return found === null || findPhoneNumber(`${before} ${after}`, `+65${national}`) !== null;
      }),
      { numRuns: Number(process.env.MASKLINE_HOSTILE_RUNS ?? 500) },
    );
  });

  it('leaves ids readable where they stand: bookings, their workflows, runs, 8x8 sessions and calls, schedules', () => {
    const ids = [
      'booking-race-711-1009',
      'race-1-889',
      'order-12345678',
      'booking-order-12345678',
      'ORDER_98765432',
      'story-3a89f90b55',
      'booking-private-ride-1234567a',
      'order-6591234567',
      '01a23100-dec7-7420-826d-030d2adb55a5',
      '12345678-1234-4234-8234-123456789012',
      'maskline-number-sync-workflow-2026-11-25T20:17:35Z',
      '2026-11-25',
      '2026-11-25 10:00:00.123',
    ];
    for (const readable of ids) {
      assert.equal(redactText(`workflow ${readable} started`), `workflow ${readable} started`);
      assert.deepEqual(redactValue({ workflowId: readable, message: `no booking ${readable}` }), {
        workflowId: readable,
        message: `no booking ${readable}`,
      });
    }
    // The Temporal SDK's core writes its own lines in Rust's debug format.
    const core =
      'execution: WorkflowExecution { workflow_id: \\"booking-race-711-1009\\", run_id: \\"01a23100-dec7-7420-826d-030d2adb55a5\\" }';
    assert.equal(redactText(core), core);
  });

  it('masks a booking id that is itself a phone number, in its workflow id as in its own field', () => {
    for (const bookingId of ['6591234567', '65-9123-4567', '65.9123.4567', '65_9123_4567', '+6591234567']) {
      for (const text of [
        bookingId,
        `booking-${bookingId}`,
        `Booking-${bookingId}`,
        `booking-${bookingId}-release`,
        `workflow_id: \\"booking-${bookingId}\\"`,
      ]) {
        assert.equal(findPhoneNumber(redactText(text), '+6591234567'), null, text);
      }
      const record = redactValue({ bookingId, workflowId: `booking-${bookingId}` });
      assert.equal(findPhoneNumber(JSON.stringify(record), '+6591234567'), null, bookingId);
    }
  });

  it('masks a number written with escapes: percent-encoded, or in an escaped string', () => {
    for (const text of [
      '%2B6591234567',
      '%2b65%209123%204567',
      'to=%2B6591234567&from=x',
      'line\\n6591234567',
      'line\\t+65 9123 4567',
      '\\u002B6591234567',
      '\\x2b6591234567',
    ]) {
      assert.equal(findPhoneNumber(redactText(text), '+6591234567'), null, text);
    }
  });

  it('keeps every id of the id shapes readable and no number readable, however they are mixed in a line', () => {
    const number = fc
      .tuple(nationalNumber, anyWriting)
      .map(([national, write]) => ({ national, text: write(national) }));
    const asBookingId = nationalNumber.chain((national) =>
      fc
        .constantFrom(`booking-65${national}`, `booking-65-${national.slice(0, 4)}-${national.slice(4)}`)
        .map((text) => ({ national, text })),
    );
    const piece = fc.oneof(
      id.map((text) => ({ id: text })),
      fc.oneof(number, asBookingId).map((written) => ({ number: written })),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(piece, hardJoint, softJoint, fc.boolean()), { minLength: 1, maxLength: 8 }),
        (parts) => {
          let line = '';
          for (const [part, hard, soft, useSoft] of parts) {
            const text = 'id' in part ? part.id : part.number.text;
            // Digits after digits and a space read as more of the same number (`+65 9123 2026-11-25` is masked
            // whole), so there the joint is one that ends a number.
            const joint = useSoft && !(/\d$/.test(line) && /^\d/.test(text)) ? soft : hard;
            line += (line === '' ? '' : joint) + text;
          }
          const redacted = redactText(line);
          const ids = parts.flatMap(([part]) => ('id' in part ? [part.id] : []));
          for (const readable of ids) assert.ok(redacted.includes(readable), `${readable} not readable in ${redacted}`);
          for (const [part] of parts) {
            if (!('number' in part)) continue;
            const e164 = `+65${part.number.national}`;
            const found = findPhoneNumber(redacted, e164);
            // An id may spell the number's digits by itself; that is not a leak.
            assert.ok(found === null || findPhoneNumber(ids.join(' | '), e164) !== null, `${found} in ${redacted}`);
          }
        },
      ),
      { numRuns: Number(process.env.MASKLINE_HOSTILE_RUNS ?? 500) },
    );
  });

  it('cuts a field longer than the limit before scanning it, says how much it cut, and leaves no number in part', () => {
    const field = `${'x'.repeat(16_380)}6591234567${'y'.repeat(65_536)}`;
    const redacted = redactText(field);
    assert.ok(redacted.length < 16_500, `${redacted.length} characters`);
    assert.match(redacted, /… \[cut \d+ of 81926 characters\]$/);
    assert.doesNotMatch(redacted, /659/);
    assert.ok(redacted.startsWith('x'.repeat(16_000)));
    // Wherever the cut falls in a number, what is left of it is masked (seven digits or more) or gone.
    for (let offset = 16_360; offset < 16_390; offset++) {
      for (const number of ['+65 9123 4567', '(65) 9123-4567', '6591234567']) {
        const around = `${'('.repeat(offset - 200)}${' '.repeat(200)}${number}${'y'.repeat(20_000)}`;
        const redacted = redactText(around);
        assert.equal(findPhoneNumber(redacted, '+6591234567'), null, `${number} at ${offset}`);
        assert.doesNotMatch(redacted, /9123/, `${number} at ${offset}`);
      }
    }
  });

  it('redacts hostile fields, of every shape that once took seconds, with work in proportion to their length', () => {
    const shapes: Record<string, (length: number) => string> = {
      'digits after a letter': (length) => `a${'1'.repeat(length - 1)}`,
      digits: (length) => '1'.repeat(length),
      'spaces after a digit': (length) => `a1${' '.repeat(length - 2)}`,
      'dots after a digit': (length) => `a1${'.'.repeat(length - 2)}`,
      'the start of a date, again and again': (length) => `x${'20'.repeat(length / 2)}`,
      'dates after digits': (length) => `${'1'.repeat(length - 10)}2026-11-25`,
      'almost dates': (length) => `x${'2026-11-2'.repeat(length / 9)}`,
      'almost UUIDs': (length) => '12345678-1234-1234-1234-12345678901 '.repeat(length / 36),
      'almost escapes': (length) => '%2\\u002'.repeat(length / 8),
      'almost workflow ids': (length) => 'booking booking-'.repeat(length / 16),
      'digits and separators': (length) => '+(1 '.repeat(length / 4),
    };
    for (const [shape, write] of Object.entries(shapes)) {
      for (const length of [4_096, 16_384, 65_536]) {
        const field = write(length);
        const work = redactionWork(field);
        assert.ok(work <= 4 * field.length, `${shape}, ${field.length} characters: ${work} examined`);
      }
      const redacted = redactText(write(65_536));
      assert.match(redacted, /\[cut \d+ of \d+ characters\]$/, shape);
      assert.deepEqual(unmaskedPhoneNumbers(redacted), [], shape);
    }
  });
});
