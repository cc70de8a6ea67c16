import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskedForReport, unmaskedPhoneNumbers } from '../scripts/logScan';
import { redactText } from '../src/logging/redact';

// The net `npm test` casts over every log line of the run: it must catch a number in any form our logs could
// carry it, and stay quiet about what is not one.

describe('the whole-suite scan for unmasked phone numbers', () => {
  it('finds numbers in E.164 and bare, in JSON strings and as JSON numbers', () => {
    const line = '{"caller":"+6591234567","destination":"6560001001","raw":6598765432,"us":"+14155550123"}';
    assert.deepEqual(unmaskedPhoneNumbers(line), ['+6591234567', '6560001001', '6598765432', '+14155550123']);
  });

  it('finds a number inside a claim key or a message', () => {
    assert.deepEqual(unmaskedPhoneNumbers('E11000 duplicate key: +6591234567|+6560001001'), [
      '+6591234567',
      '+6560001001',
    ]);
    assert.deepEqual(unmaskedPhoneNumbers('call from 6591234567 to the driver'), ['6591234567']);
  });

  it("finds a booking id that is itself a number in the booking's workflow id, and a + number after a dash", () => {
    assert.deepEqual(unmaskedPhoneNumbers('{"workflowId":"booking-6591234567"}'), ['6591234567']);
    assert.deepEqual(unmaskedPhoneNumbers('workflow_id: \\"booking-6591234567\\"'), ['6591234567']);
    assert.deepEqual(unmaskedPhoneNumbers('caller-+6591234567'), ['+6591234567']);
    assert.deepEqual(unmaskedPhoneNumbers('rebooking-6591234567 booking-order-6591234567'), []);
  });

  it('passes masked numbers, timestamps, epoch milliseconds, ids, ports and durations', () => {
    const line =
      '{"time":"2026-11-25T16:13:50.025Z","ms":1764087230025,"caller":"+65****4567","sessionId":"session-6591234567",' +
      '"runId":"0193a1b2-7c3d-7e4f-8a9b-123456789012","port":27017,"pid":1234567,"took":12.3456789012}';
    assert.deepEqual(unmaskedPhoneNumbers(line), []);
  });

  it('passes every line our redaction has been through', () => {
    for (const text of ['+6591234567', '6591234567', '+65 9123 4567', '(65) 9123-4567', '+14155550123']) {
      assert.deepEqual(unmaskedPhoneNumbers(redactText(`caller ${text} called`)), [], text);
    }
  });

  it('reports a leak with the number masked', () => {
    assert.equal(maskedForReport('caller +6591234567 at 2026-11-25'), 'caller +65****4567 at 2026-11-25');
  });
});
