import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  parseCallAction,
  parseCallStatus,
  parseSessionSummary,
  parseVirtualNumberUpdate,
  parseWebhook,
  type WebhookParseResult,
} from '../src/eightbyeight';
import { toE164 } from '../src/domain/phoneNumbers';

// Payloads as 8x8's webhook guides show them (shared/8x8/README.md); the OpenAPI files do not describe webhooks.

const callReceived = {
  namespace: 'VOICE',
  eventType: 'CALL_ACTION',
  description: 'Action request of a call',
  payload: {
    eventId: '5a3f7c1e-133a-11ef-9dd4-e911cc6fc82f',
    callId: '4b9e25f1-133a-11ef-b08c-e33c09483244',
    sessionId: 'a4fad4b3-b388-12ee-b217-2fb8260fcf59',
    subAccountId: 'maskline_sg',
    callStatus: 'CALL_RECEIVED',
    callDirection: 'INBOUND',
    callType: 'PSTN',
    source: '+6591234567',
    destination: '+6568880001',
    sourceFormat: 'MSISDN',
    destinationFormat: 'MSISDN',
    sourceCountryCode: 'SG',
    destinationCountryCode: 'SG',
    destinationRefId: 'vn-0001',
    callDuration: 0,
    sipCode: 200,
    timestamp: '2024-05-16T04:12:09.101Z',
  },
};

// 8x8's Voice Call Action guide, follow-up after an action completed.
const actionCompleted = {
  namespace: 'VOICE',
  eventType: 'CALL_ACTION',
  description: 'Action request of a call',
  payload: {
    eventId: '77e6a667-133a-11ef-9dd4-e911cc6fc82f',
    callId: '627e25f1-133a-11ef-b08c-e33c09483244',
    sessionId: 'a4fad4b3-b388-12ee-b217-2fb8260fcf59',
    subAccountId: 'account_x',
    callStatus: 'ACTION_COMPLETED',
    callDirection: 'OUTBOUND',
    callType: 'PSTN',
    source: '+6568888888',
    destination: '+6598888888',
    sourceFormat: 'MSISDN',
    destinationFormat: 'MSISDN',
    sourceCountryCode: 'SG',
    destinationCountryCode: 'SG',
    sourceRefId: 'SOME-VN-REF-ID',
    destinationRefId: 'ANOTHER-VN-REF-ID',
    callDuration: 0,
    eventData: { dtmf: '7534', asrCaptured: 'hello world' },
    sipCode: 200,
    timestamp: '2024-05-16T04:12:11.217Z',
    clientActionId: 'ivr1_level1',
  },
};

const callConnected = {
  namespace: 'VOICE',
  eventType: 'CALL_STATUS',
  description: 'Call status update',
  payload: {
    eventId: '8c1d0a52-133a-11ef-9dd4-e911cc6fc82f',
    callId: '9f0e25f1-133a-11ef-b08c-e33c09483244',
    sessionId: 'a4fad4b3-b388-12ee-b217-2fb8260fcf59',
    subAccountId: 'maskline_sg',
    callStatus: 'CALL_CONNECTED',
    callDirection: 'OUTBOUND',
    callType: 'PSTN',
    source: '+6568880001',
    destination: '+6597654321',
    sourceFormat: 'MSISDN',
    destinationFormat: 'MSISDN',
    sourceCountryCode: 'SG',
    destinationCountryCode: 'SG',
    sourceRefId: 'vn-0001',
    callDuration: 0,
    sipCode: 200,
    timestamp: '2024-05-16T04:12:15.480Z',
  },
};

function leg(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    callId: '4b9e25f1-133a-11ef-b08c-e33c09483244',
    callDirection: 'INBOUND',
    callType: 'PSTN',
    initiatedTimestamp: '2024-05-16T04:12:09.101Z',
    connectedTimestamp: '2024-05-16T04:12:09.650Z',
    disconnectedTimestamp: '2024-05-16T04:14:02.002Z',
    source: '+6591234567',
    destination: '+6568880001',
    sourceFormat: 'MSISDN',
    destinationFormat: 'MSISDN',
    sourceCountryCode: 'SG',
    destinationCountryCode: 'SG',
    destinationRefId: 'vn-0001',
    callStatus: 'COMPLETED',
    callDuration: 113,
    callQuality: { mos: 4.3, packetLossRate: 0, jitter: 2 },
    ...overrides,
  };
}

const sessionCompleted = {
  namespace: 'VOICE',
  eventType: 'SESSION_SUMMARY',
  description: 'Session summary',
  payload: {
    sessionId: 'a4fad4b3-b388-12ee-b217-2fb8260fcf59',
    subAccountId: 'maskline_sg',
    sessionStatus: 'COMPLETED',
    startTime: '2024-05-16T04:12:09.101Z',
    endTime: '2024-05-16T04:14:02.002Z',
    lastAction: 'MAKE_CALL',
    callCount: 2,
    details: {
      callA: leg({}),
      callB: leg({
        callId: '9f0e25f1-133a-11ef-b08c-e33c09483244',
        callDirection: 'OUTBOUND',
        connectedTimestamp: '2024-05-16T04:12:15.480Z',
        source: '+6568880001',
        destination: '+6597654321',
        sourceRefId: 'vn-0001',
        callDuration: 106,
      }),
    },
  },
};

const numbersSnapshot = {
  namespace: 'VOICE',
  eventType: 'VIRTUAL_NUMBER_UPDATE',
  description: 'Status of account virtual number(s) updated',
  payload: {
    subAccountId: 'maskline_sg',
    totalNumbers: 2,
    updateEventType: 'SNAPSHOT',
    virtualNumbers: [
      {
        msisdn: '+6568880001',
        updatedTimestamp: '2024-05-16T00:00:00.000Z',
        countryCode: 'SG',
        operationalStatus: 'Active',
        referenceId: 'vn-0001',
        updateStatus: 'NO_CHANGE',
        rentalPrice: 10,
        billingCurrency: 'SGD',
      },
      {
        msisdn: '6568880002',
        updatedTimestamp: '2024-05-16T00:00:00.000Z',
        countryCode: 'SG',
        operationalStatus: 'Unhealthy',
        referenceId: 'vn-0002',
        updateStatus: 'UPDATED',
      },
    ],
  },
};

function withPayload<T extends { payload: object }>(webhook: T, payload: Record<string, unknown>): T {
  return { ...webhook, payload: { ...webhook.payload, ...payload } };
}

function valueOf<T>(result: WebhookParseResult<T, string>): T {
  if (!result.ok) assert.fail(`expected the webhook to parse, got ${result.error.message}`);
  return result.value;
}

function errorOf(result: WebhookParseResult<unknown, string>): { code: string; message: string } {
  if (result.ok) assert.fail(`expected the webhook to be rejected, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('a call arriving on a virtual number (CALL_ACTION)', () => {
  test('is read as who called which virtual number, both in E.164', () => {
    assert.deepEqual(valueOf(parseCallAction(callReceived)), {
      eventId: '5a3f7c1e-133a-11ef-9dd4-e911cc6fc82f',
      callId: '4b9e25f1-133a-11ef-b08c-e33c09483244',
      sessionId: 'a4fad4b3-b388-12ee-b217-2fb8260fcf59',
      subAccountId: 'maskline_sg',
      callStatus: 'CALL_RECEIVED',
      source: '+6591234567',
      destination: '+6568880001',
      timestamp: '2024-05-16T04:12:09.101Z',
    });
  });

  test('the follow-up after an action carries our clientActionId back and the digits the caller pressed', () => {
    const event = valueOf(parseCallAction(actionCompleted));
    assert.equal(event.callStatus, 'ACTION_COMPLETED');
    assert.equal(event.clientActionId, 'ivr1_level1');
    assert.equal(event.dtmf, '7534');
  });

  test('numbers written without a leading + or with spaces and dashes are read as E.164', () => {
    const event = valueOf(
      parseCallAction(withPayload(callReceived, { source: '6591234567', destination: '65 6888-0001' })),
    );
    assert.equal(event.source, '+6591234567');
    assert.equal(event.destination, '+6568880001');
  });

  test('the pressed digits are read whether eventData is an object, a JSON string, bare digits or null', () => {
    const cases: [eventData: unknown, dtmf: string | null | undefined][] = [
      [{ dtmf: '42' }, '42'],
      [{ dtmf: null }, null],
      [{ dtmf: 42 }, '42'],
      ['{"dtmf":"42"}', '42'],
      ['42', '42'],
      ['', null],
      [null, null],
      [undefined, undefined],
    ];
    for (const [eventData, dtmf] of cases) {
      const event = valueOf(parseCallAction(withPayload(actionCompleted, { eventData })));
      assert.equal(event.dtmf, dtmf, `eventData ${JSON.stringify(eventData)}`);
    }
  });

  test('fields 8x8 adds in the future are ignored, not rejected', () => {
    const event = valueOf(
      parseCallAction(withPayload({ ...callReceived, apiVersion: 3 }, { newField: { nested: true } })),
    );
    assert.equal(event.callId, callReceived.payload.callId);
    assert.equal('newField' in event, false);
  });

  test('an optional field in an unusable shape is dropped rather than losing the call', () => {
    const event = valueOf(parseCallAction(withPayload(callReceived, { subAccountId: 17, timestamp: null })));
    assert.equal('subAccountId' in event, false);
    assert.equal('timestamp' in event, false);
  });

  test('without the caller number it is rejected, naming payload.source', () => {
    const { source: _omitted, ...payload } = callReceived.payload;
    const error = errorOf(parseCallAction({ ...callReceived, payload }));
    assert.deepEqual(error, { code: 'invalid_webhook', message: 'payload.source: required' });
  });

  test('a caller who withheld their number is still a call to answer, with no caller number', () => {
    assert.equal(valueOf(parseCallAction(withPayload(callReceived, { source: 'anonymous' }))).source, null);
  });

  test('a missing caller is rejected, naming payload.source', () => {
    const error = errorOf(parseCallAction(withPayload(callReceived, { source: '' })));
    assert.equal(error.code, 'invalid_webhook');
    assert.match(error.message, /^payload\.source: /);
  });

  test('an empty session id is rejected, naming payload.sessionId', () => {
    assert.match(
      errorOf(parseCallAction(withPayload(callReceived, { sessionId: '' }))).message,
      /^payload\.sessionId: must not be empty$/,
    );
  });

  test('a call status webhook is not mistaken for a call to route', () => {
    const error = errorOf(parseCallAction({ ...callReceived, eventType: 'CALL_STATUS' }));
    assert.deepEqual(error, { code: 'invalid_webhook', message: 'eventType: expected "CALL_ACTION"' });
  });

  test('a body that is not a webhook at all is rejected, naming what is missing', () => {
    assert.match(errorOf(parseCallAction(null)).message, /^body: /);
    assert.match(errorOf(parseCallAction({ eventType: 'CALL_ACTION' })).message, /^payload: required$/);
  });
});

describe('a call leg changing state (CALL_STATUS)', () => {
  test('is read with its status, direction and numbers in E.164', () => {
    assert.deepEqual(valueOf(parseCallStatus(callConnected)), {
      eventId: '8c1d0a52-133a-11ef-9dd4-e911cc6fc82f',
      callId: '9f0e25f1-133a-11ef-b08c-e33c09483244',
      sessionId: 'a4fad4b3-b388-12ee-b217-2fb8260fcf59',
      callStatus: 'CALL_CONNECTED',
      callDirection: 'OUTBOUND',
      source: '+6568880001',
      destination: '+6597654321',
      timestamp: '2024-05-16T04:12:15.480Z',
      callDuration: 0,
    });
  });

  test('a call duration sent as a numeric string is read as a number', () => {
    const event = valueOf(
      parseCallStatus(withPayload(callConnected, { callStatus: 'CALL_DISCONNECTED', callDuration: '106' })),
    );
    assert.equal(event.callDuration, 106);
  });

  test('a leg whose caller withheld their number (8x8 sends e.g. anonymous) is read with no caller number', () => {
    for (const source of ['anonymous', 'Anonymous', 'unknown', 'restricted', 'private']) {
      const event = valueOf(parseCallStatus(withPayload(callConnected, { source })));
      assert.equal(event.source, null, source);
      assert.equal(event.destination, '+6597654321');
      assert.equal(event.eventId, callConnected.payload.eventId);
    }
  });

  test('without an eventId, which duplicates are recognised by, it is rejected naming payload.eventId', () => {
    const { eventId: _omitted, ...payload } = callConnected.payload;
    assert.equal(errorOf(parseCallStatus({ ...callConnected, payload })).message, 'payload.eventId: required');
  });
});

describe('the summary of an ended call session (SESSION_SUMMARY)', () => {
  test('is read with its status and both legs', () => {
    assert.deepEqual(valueOf(parseSessionSummary(sessionCompleted)), {
      sessionId: 'a4fad4b3-b388-12ee-b217-2fb8260fcf59',
      sessionStatus: 'COMPLETED',
      startTime: '2024-05-16T04:12:09.101Z',
      endTime: '2024-05-16T04:14:02.002Z',
      lastAction: 'MAKE_CALL',
      callCount: 2,
      callA: {
        callId: '4b9e25f1-133a-11ef-b08c-e33c09483244',
        callDirection: 'INBOUND',
        source: '+6591234567',
        destination: '+6568880001',
        initiatedTimestamp: '2024-05-16T04:12:09.101Z',
        connectedTimestamp: '2024-05-16T04:12:09.650Z',
        disconnectedTimestamp: '2024-05-16T04:14:02.002Z',
        callStatus: 'COMPLETED',
        callDurationSeconds: 113,
      },
      callB: {
        callId: '9f0e25f1-133a-11ef-b08c-e33c09483244',
        callDirection: 'OUTBOUND',
        source: '+6568880001',
        destination: '+6597654321',
        initiatedTimestamp: '2024-05-16T04:12:09.101Z',
        connectedTimestamp: '2024-05-16T04:12:15.480Z',
        disconnectedTimestamp: '2024-05-16T04:14:02.002Z',
        callStatus: 'COMPLETED',
        callDurationSeconds: 106,
      },
    });
  });

  test('legs keyed CallA / CallB, with durations as strings and numbers without +, are read the same', () => {
    const summary = valueOf(
      parseSessionSummary(
        withPayload(sessionCompleted, {
          details: {
            CallA: leg({ source: '6591234567', callDuration: '113' }),
            CallB: leg({ callDuration: '106' }),
          },
        }),
      ),
    );
    assert.equal(summary.callA?.source, '+6591234567');
    assert.equal(summary.callA?.callDurationSeconds, 113);
    assert.equal(summary.callB?.callDurationSeconds, 106);
  });

  test('the spellings NO ANSWER and CANCELLED are read as NO_ANSWER and CANCELED', () => {
    const statuses: [sent: string, read: string][] = [
      ['NO ANSWER', 'NO_ANSWER'],
      ['NO_ANSWER', 'NO_ANSWER'],
      ['CANCELLED', 'CANCELED'],
      ['CANCELED', 'CANCELED'],
      ['busy', 'BUSY'],
    ];
    for (const [sent, read] of statuses) {
      const summary = valueOf(parseSessionSummary(withPayload(sessionCompleted, { sessionStatus: sent })));
      assert.equal(summary.sessionStatus, read, sent);
    }
  });

  test('a session whose callflow answer failed is read with only the inbound leg and the error', () => {
    const summary = valueOf(
      parseSessionSummary(
        withPayload(sessionCompleted, {
          sessionStatus: 'ERROR',
          lastAction: 'HANGUP',
          callCount: 1,
          errorDetails: { errorMsg: 'Invalid callflow', errorCode: -2003 },
          details: { callA: leg({ callStatus: 'ERROR', callDuration: 0 }) },
        }),
      ),
    );
    assert.equal(summary.sessionStatus, 'ERROR');
    assert.deepEqual(summary.errorDetails, { errorMsg: 'Invalid callflow', errorCode: -2003 });
    assert.equal(summary.callA?.callStatus, 'ERROR');
    assert.equal(summary.callB, undefined);
  });

  test('a leg number that cannot be read does not lose the summary', () => {
    const summary = valueOf(
      parseSessionSummary(withPayload(sessionCompleted, { details: { callA: leg({ source: 'anonymous' }) } })),
    );
    assert.equal(summary.callA?.source, undefined);
    assert.equal(summary.callA?.destination, '+6568880001');
  });

  test('without a session id or status it is rejected, naming the fields', () => {
    const { sessionId: _id, sessionStatus: _status, ...payload } = sessionCompleted.payload;
    assert.equal(
      errorOf(parseSessionSummary({ ...sessionCompleted, payload })).message,
      'payload.sessionId: required; payload.sessionStatus: required',
    );
  });
});

describe('a change in the virtual number pool (VIRTUAL_NUMBER_UPDATE)', () => {
  test('a snapshot is read with every number in E.164 and its operational status', () => {
    assert.deepEqual(valueOf(parseVirtualNumberUpdate(numbersSnapshot)), {
      subAccountId: 'maskline_sg',
      totalNumbers: 2,
      updateEventType: 'SNAPSHOT',
      virtualNumbers: [
        {
          msisdn: '+6568880001',
          countryCode: 'SG',
          operationalStatus: 'Active',
          referenceId: 'vn-0001',
          updatedTimestamp: '2024-05-16T00:00:00.000Z',
          updateStatus: 'NO_CHANGE',
        },
        {
          msisdn: '+6568880002',
          countryCode: 'SG',
          operationalStatus: 'Unhealthy',
          referenceId: 'vn-0002',
          updatedTimestamp: '2024-05-16T00:00:00.000Z',
          updateStatus: 'UPDATED',
        },
      ],
    });
  });

  test('a number that cannot be read rejects the update, naming which one', () => {
    const virtualNumbers = [numbersSnapshot.payload.virtualNumbers[0], { msisdn: '12', operationalStatus: 'Active' }];
    const error = errorOf(parseVirtualNumberUpdate(withPayload(numbersSnapshot, { virtualNumbers })));
    assert.match(error.message, /^payload\.virtualNumbers\.1\.msisdn: /);
  });

  test('an update that is neither a snapshot nor updates is rejected, naming payload.updateEventType', () => {
    const error = errorOf(parseVirtualNumberUpdate(withPayload(numbersSnapshot, { updateEventType: 'DELTA' })));
    assert.equal(error.message, 'payload.updateEventType: expected "SNAPSHOT" or "UPDATES"');
  });
});

describe('one endpoint for every webhook type', () => {
  test('each webhook is recognised by its eventType', () => {
    assert.equal(valueOf(parseWebhook(callReceived)).type, 'CALL_ACTION');
    assert.equal(valueOf(parseWebhook(callConnected)).type, 'CALL_STATUS');
    assert.equal(valueOf(parseWebhook(sessionCompleted)).type, 'SESSION_SUMMARY');
    assert.equal(valueOf(parseWebhook(numbersSnapshot)).type, 'VIRTUAL_NUMBER_UPDATE');
  });

  test('the parsed event is the same as from the type-specific parser', () => {
    assert.deepEqual(valueOf(parseWebhook(actionCompleted)), {
      type: 'CALL_ACTION',
      event: valueOf(parseCallAction(actionCompleted)),
    });
  });

  test('a recording-uploaded notice is read into the recording of its session', () => {
    const payload = {
      sessionId: 'a4fad4b3-b388-12ee-b217-2fb8260fcf59',
      recordingId: 'rec-1',
      status: 'completed',
      externalFileUrl: 's3://bucket/rec-1.mp3',
      duration: '12',
      startRecordingTime: '2021-01-01T00:00:00Z',
    };
    assert.deepEqual(valueOf(parseWebhook({ namespace: 'VOICE', eventType: 'CALL_RECORDING_STATUS', payload })), {
      type: 'CALL_RECORDING_STATUS',
      event: {
        sessionId: payload.sessionId,
        recordingId: 'rec-1',
        status: 'completed',
        fileUrl: 's3://bucket/rec-1.mp3',
        durationSeconds: 12,
        startedAt: '2021-01-01T00:00:00Z',
      },
    });
  });

  test('a recording-uploaded notice keeps its session whatever else comes in an unusable shape', () => {
    const sessionId = 'a4fad4b3-b388-12ee-b217-2fb8260fcf59';
    fc.assert(
      fc.property(
        fc.record(
          {
            recordingId: fc.jsonValue(),
            status: fc.jsonValue(),
            externalFileUrl: fc.jsonValue(),
            duration: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        (extra) => {
          const parsed = parseWebhook({
            namespace: 'VOICE',
            eventType: 'CALL_RECORDING_STATUS',
            payload: { ...extra, sessionid: sessionId },
          });
          assert.ok(parsed.ok);
          assert.equal(parsed.value.type, 'CALL_RECORDING_STATUS');
          if (parsed.value.type !== 'CALL_RECORDING_STATUS') return;
          assert.equal(parsed.value.event.sessionId, sessionId);
          assert.equal(typeof parsed.value.event.recordingId, 'string');
        },
      ),
    );
  });

  test('an eventType we do not know is reported as unknown_event_type', () => {
    assert.deepEqual(errorOf(parseWebhook({ namespace: 'VOICE', eventType: 'CALL_TRANSCRIPT', payload: {} })), {
      code: 'unknown_event_type',
      message: 'eventType: unknown value "CALL_TRANSCRIPT"',
    });
  });

  test('a body without eventType, or not an object, is an invalid webhook', () => {
    assert.deepEqual(errorOf(parseWebhook({ payload: {} })), {
      code: 'invalid_webhook',
      message: 'eventType: required',
    });
    assert.equal(errorOf(parseWebhook('CALL_ACTION')).code, 'invalid_webhook');
  });

  test('a known webhook with a broken payload is an invalid webhook naming the field', () => {
    assert.deepEqual(errorOf(parseWebhook(withPayload(callReceived, { callId: undefined }))), {
      code: 'invalid_webhook',
      message: 'payload.callId: required',
    });
  });
});

describe('reading 8x8 numbers as E.164', () => {
  test('numbers in the forms 8x8 writes them become +<digits>', () => {
    const cases: [raw: string, e164: string | null][] = [
      ['+6591234567', '+6591234567'],
      ['6591234567', '+6591234567'],
      ['+65 9123-4567', '+6591234567'],
      [' 44 20 7946 0958 ', '+442079460958'],
      ['1234567', '+1234567'],
      ['123456789012345', '+123456789012345'],
      ['+65(9)1234567', '+6591234567'],
      ['4407911123456', '+447911123456'],
    ];
    for (const [raw, e164] of cases) assert.equal(toE164(raw), e164, raw);
  });

  test('what is not an international number is refused', () => {
    for (const raw of [
      '',
      '+',
      'anonymous',
      '123456',
      '1234567890123456',
      '0065912345',
      '+0591234567',
      '++6591234567',
      '+65 9123 4567 ext. 8',
    ]) {
      assert.equal(toE164(raw), null, raw);
    }
  });

  test('whatever comes in, the result is E.164 or null, and reading it again changes nothing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\+?[0-9 -]{0,20}$/)), (raw) => {
        const e164 = toE164(raw);
        if (e164 === null) return;
        assert.match(e164, /^\+[1-9]\d{6,14}$/);
        assert.equal(toE164(e164), e164);
      }),
    );
  });
});
