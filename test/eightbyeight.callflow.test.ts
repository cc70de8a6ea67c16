import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  captureDigits,
  connectCall,
  MAX_SAY_TEXT_LENGTH,
  noticeAndHangup,
  type CallActionAnswer,
} from '../src/eightbyeight';
import {
  namedSchema,
  validateAgainst,
  validateCallActionAnswer,
  validateRecordedCallActionAnswer,
} from '../harness/eightbyeightSchemas';

function assertAccepted(answer: CallActionAnswer): void {
  assert.deepEqual(validateCallActionAnswer(answer), { valid: true, errors: [] });
}

describe('answering a call to a virtual number', () => {
  test('a caller with an active booking is put through to the other party, who sees the virtual number', () => {
    const answer = connectCall({ virtualNumber: '+6568880001', destination: '+6597654321' });
    assert.deepEqual(answer, {
      callflow: [{ action: 'makeCall', params: { source: '+6568880001', destination: '+6597654321' } }],
    });
    assertAccepted(answer);
  });

  test('numbers stored without + or with spaces are sent to 8x8 in E.164', () => {
    const answer = connectCall({ virtualNumber: '65 6888 0001', destination: '6597654321' });
    assert.deepEqual(answer.callflow, [
      { action: 'makeCall', params: { source: '+6568880001', destination: '+6597654321' } },
    ]);
    assertAccepted(answer);
  });

  test('a recorded call is the published makeCall plus the guide’s callRecording: true, and only when asked', () => {
    const recorded = connectCall({ virtualNumber: '+6568880001', destination: '+6597654321', record: true });
    assert.deepEqual(recorded.callflow, [
      { action: 'makeCall', params: { source: '+6568880001', destination: '+6597654321', callRecording: true } },
    ]);
    assert.deepEqual(validateRecordedCallActionAnswer(recorded), { valid: true, errors: [] });
    // The published schema alone refuses it: that is why nothing else ever carries it.
    assert.equal(validateCallActionAnswer(recorded).valid, false);
    const plain = connectCall({ virtualNumber: '+6568880001', destination: '+6597654321', record: false });
    assert.equal('callRecording' in (plain.callflow[0] as { params: object }).params, false);
    assertAccepted(plain);
    // The recorded check still holds the rest of the callflow to the published schema.
    const broken = { callflow: [{ action: 'makeCall', params: { source: '+6568880001', callRecording: true } }] };
    assert.equal(validateRecordedCallActionAnswer(broken).valid, false);
    const notTrue = {
      callflow: [{ action: 'makeCall', params: { ...plain.callflow[0]!.params, callRecording: 'yes' } }],
    };
    assert.equal(validateRecordedCallActionAnswer(notTrue).valid, false);
  });

  test('a clientActionId is handed to 8x8 only when there is one', () => {
    const answer = connectCall({
      virtualNumber: '+6568880001',
      destination: '+6597654321',
      clientActionId: 'booking-42',
    });
    assert.equal(answer.clientActionId, 'booking-42');
    assertAccepted(answer);
    assert.equal('clientActionId' in noticeAndHangup({ text: 'Goodbye.', voiceProfile: 'en-US-ZiraRUS' }), false);
  });

  test('asking for digits sends every sayAndCapture value explicitly, within the published schema', () => {
    const answer = captureDigits({
      prompt: 'Enter your PIN, then the hash key.',
      voiceProfile: 'en-US-ZiraRUS',
      clientActionId: 'pin',
      minDigits: 4,
      maxDigits: 6,
      failureMessage: 'Sorry, we could not connect you.',
    });
    assert.deepEqual(answer, {
      clientActionId: 'pin',
      callflow: [
        {
          action: 'sayAndCapture',
          params: {
            promptMessage: 'Enter your PIN, then the hash key.',
            voiceProfile: 'en-US-ZiraRUS',
            speed: 1,
            minDigits: 4,
            maxDigits: 6,
            digitTimeout: 3000,
            overallTimeout: 15000,
            completeOnHash: true,
            noOfTries: 2,
            failureMessage: 'Sorry, we could not connect you.',
          },
        },
      ],
    });
    assertAccepted(answer);
  });

  test('asking for digits keeps the digit timeout below the overall one and refuses an impossible digit count', () => {
    const answer = captureDigits({
      prompt: 'Press 1 or 2.',
      voiceProfile: 'en-US-ZiraRUS',
      clientActionId: 'menu',
      minDigits: 1,
      maxDigits: 1,
      digitTimeoutMs: 5000,
      overallTimeoutMs: 5000,
      failureMessage: 'Goodbye.',
    });
    const params = answer.callflow[0]!.params as { digitTimeout: number; overallTimeout: number };
    assert.ok(params.digitTimeout < params.overallTimeout);
    assertAccepted(answer);
    assert.throws(
      () =>
        captureDigits({
          prompt: 'x',
          voiceProfile: 'v',
          clientActionId: 'c',
          minDigits: 3,
          maxDigits: 2,
          failureMessage: 'f',
        }),
      RangeError,
    );
  });

  test('a number that is not a phone number is refused instead of sending 8x8 a callflow it would reject', () => {
    assert.throws(() => connectCall({ virtualNumber: '+6568880001', destination: 'unknown' }), RangeError);
    assert.throws(() => connectCall({ virtualNumber: '', destination: '+6597654321' }), /virtualNumber/);
  });

  test('a caller with no active booking hears the notice once at normal speed, then the call ends', () => {
    const answer = noticeAndHangup({
      text: 'Sorry, this number is not linked to an active booking. Goodbye.',
      voiceProfile: 'en-US-ZiraRUS',
      clientActionId: 'no-booking',
    });
    assert.deepEqual(answer, {
      clientActionId: 'no-booking',
      callflow: [
        {
          action: 'say',
          params: {
            text: 'Sorry, this number is not linked to an active booking. Goodbye.',
            voiceProfile: 'en-US-ZiraRUS',
            repetition: 1,
            speed: 1,
          },
        },
        { action: 'hangup' },
      ],
    });
    assertAccepted(answer);
  });

  test('a notice longer than 8x8 can speak is cut to fit, so the caller still hears it', () => {
    const answer = noticeAndHangup({ text: 'x'.repeat(MAX_SAY_TEXT_LENGTH + 500), voiceProfile: 'en-GB-Emma' });
    const say = answer.callflow[0];
    assert.equal(say?.action, 'say');
    assert.equal(say.action === 'say' && say.params.text.length, MAX_SAY_TEXT_LENGTH);
    assertAccepted(answer);
  });

  test('cutting a long notice never leaves half of an emoji behind', () => {
    const text = 'x'.repeat(MAX_SAY_TEXT_LENGTH - 1) + '📞 call us';
    const say = noticeAndHangup({ text, voiceProfile: 'en-GB-Emma' }).callflow[0];
    assert.ok(say?.action === 'say');
    assert.equal(say.params.text, 'x'.repeat(MAX_SAY_TEXT_LENGTH - 1));
  });
});

describe("the check against 8x8's published callflow schema", () => {
  test("accepts 8x8's own example callflow", () => {
    const example = namedSchema('voice', 'Callflow Request').default;
    assert.deepEqual(validateCallActionAnswer(example), { valid: true, errors: [] });
  });

  test("accepts the callflows guide's IVR example, whose sayAndCapture nests its prompt in params", () => {
    const ivr = {
      callflow: [
        { action: 'makeCall', params: { source: '+6588000000', destination: '+6590000000' } },
        {
          action: 'sayAndCapture',
          params: {
            promptMessage: 'Press 1 for Sales, Press 2 for Support',
            voiceProfile: 'en-US-Neural2-C',
            minDigits: 1,
            maxDigits: 1,
          },
        },
      ],
    };
    assert.deepEqual(validateCallActionAnswer(ivr), { valid: true, errors: [] });
  });

  test('rejects a sayAndCapture whose params lack the prompt', () => {
    const check = validateCallActionAnswer({
      callflow: [{ action: 'sayAndCapture', params: { voiceProfile: 'en-US-ZiraRUS', minDigits: 1, maxDigits: 1 } }],
    });
    assert.deepEqual(check, {
      valid: false,
      errors: ["/callflow/0/params must have required property 'promptMessage'"],
    });
  });

  test('rejects a makeCall without a destination, naming the missing field', () => {
    const check = validateCallActionAnswer({ callflow: [{ action: 'makeCall', params: { source: '+6568880001' } }] });
    assert.equal(check.valid, false);
    assert.deepEqual(check.errors, ["/callflow/0/params must have required property 'destination'"]);
  });

  test('rejects an action 8x8 does not have', () => {
    const check = validateCallActionAnswer({
      callflow: [{ action: 'transfer', params: { destination: '+6597654321' } }],
    });
    assert.equal(check.valid, false);
    assert.match(
      check.errors.join('\n'),
      /\/callflow\/0\/action must be one of: makeCall, say, sayAndCapture, playFile, hangup/,
    );
  });

  test('rejects a say without a voice profile', () => {
    const check = validateCallActionAnswer({
      callflow: [{ action: 'say', params: { text: 'Goodbye.' } }, { action: 'hangup' }],
    });
    assert.deepEqual(check, {
      valid: false,
      errors: ["/callflow/0/params must have required property 'voiceProfile'"],
    });
  });

  test('rejects what the schema lets through but 8x8 cannot run: no callflow, no action, no params', () => {
    for (const answer of [
      {},
      { callflow: [] },
      { callflow: [{ acton: 'makeCall', params: { source: '+6568880001', destination: '+6597654321' } }] },
      { callflow: [{ action: 'makeCall' }] },
    ]) {
      const check = validateCallActionAnswer(answer);
      assert.equal(check.valid, false, JSON.stringify(answer));
      assert.notEqual(check.errors.length, 0);
    }
  });

  test('rejects a makeCall with a recording flag: the published schema allows only source and destination', () => {
    const check = validateCallActionAnswer({
      callflow: [
        { action: 'makeCall', params: { source: '+6568880001', destination: '+6597654321', callRecording: true } },
      ],
    });
    assert.deepEqual(check, { valid: false, errors: ['/callflow/0/params must NOT have more than 2 properties'] });
  });

  test("checks other bodies against the spec's schemas by name, and the published examples pass", () => {
    const webhookList = namedSchema('masking', 'getWebhookResponse').example;
    assert.deepEqual(validateAgainst('masking', 'getWebhookResponse', webhookList), { valid: true, errors: [] });
    assert.equal(validateAgainst('masking', 'getWebhookResponse', { count: 'one' }).valid, false);
    const created = namedSchema('voice', 'CallflowResponse').example;
    assert.deepEqual(validateAgainst('voice', 'CallflowResponse', created), { valid: true, errors: [] });
    assert.throws(() => validateAgainst('voice', 'NoSuchSchema', {}), /no schema named "NoSuchSchema"/);
  });
});
