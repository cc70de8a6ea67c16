import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskPhoneNumber, redactText, redactValue } from '../src/logging/redact';

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

  it('masks numbers in every field of a structured log record, however deep', () => {
    const record = redactValue({
      caller: '+6591234567',
      legs: [{ to: '6598765432' }],
      error: new Error('no route for +6591234567'),
    });
    assert.doesNotMatch(JSON.stringify(record), /91234567|98765432/);
  });
});
