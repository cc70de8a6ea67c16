import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { bookingWorkflowId } from '../src/bookings/contract';
import { callReceived, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { findPhoneNumber } from '../harness/privacy';
import { CODEC_TOKEN, api, eventually, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

const RIDER = '+6591234567';
const DRIVER = '+6598765432';
const STRANGER = '+6581112222';
const PEOPLE = [RIDER, DRIVER, STRANGER];

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function assertNoNumberIn(text: string, where: string) {
  for (const person of PEOPLE) {
    const found = findPhoneNumber(text, person);
    assert.equal(found, null, `${where} holds ${person}: ${found}`);
  }
}

/**
 * The whole story of a booking — numbers, booking, calls, webhooks, completion, grace, release — then a look at
 * everything it left behind outside the store: Temporal's history, search attributes and memo, and the logs.
 */
describe('privacy: what a booking leaves behind', () => {
  let stack: Stack;
  const bookingId = uniqueId('private-ride');
  const request = {
    bookingId,
    parties: [
      { role: 'rider', number: RIDER },
      { role: 'driver', number: '+65 9876 5432' },
    ],
    gracePeriodSeconds: 1,
  };

  before(async () => {
    // The most verbose level (debug and below), so that the logs have the most to say: the SDK's trace lines
    // carry decoded payloads, which the redaction must not let through.
    stack = await startStack({ logLevel: 'trace' });
    for (const number of ['+6560008001', '+6560008002']) {
      assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
    }

    const created = await api(stack, 'POST', '/v1/bookings', request);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const virtualNumber: string = created.body.virtualNumber;

    for (const [caller, callee] of [
      [RIDER, DRIVER],
      [DRIVER, RIDER],
    ] as const) {
      const sessionId = uniqueId('session');
      const answer = await webhook(stack, '/call-action', callReceived(caller, virtualNumber, sessionId));
      assert.equal(answer.body.callflow[0].action, 'makeCall');
      for (const status of ['CALL_RECEIVED', 'CALL_CONNECTED', 'CALL_DISCONNECTED']) {
        await webhook(stack, '/call-status', callStatus({ sessionId, caller, virtualNumber, callStatus: status }));
      }
      const summary = sessionSummary({
        sessionId,
        caller,
        virtualNumber,
        callee,
        sessionStatus: 'COMPLETED',
        durationSeconds: 30,
      });
      assert.equal((await webhook(stack, '/session-summary', summary)).status, 200);
    }
    const stranger = await webhook(stack, '/call-action', callReceived(STRANGER, virtualNumber));
    assert.equal(stranger.body.callflow[0].action, 'say');
    await eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (answer) => answer.body.calls?.filter((call: { status: string }) => call.status === 'COMPLETED').length === 2,
    );

    assert.equal((await api(stack, 'POST', `/v1/bookings/${bookingId}/complete`)).status, 202);
    await stack.temporal.workflow.getHandle(bookingWorkflowId(bookingId)).result();
    const released = await webhook(stack, '/call-action', callReceived(RIDER, virtualNumber));
    assert.equal(released.body.callflow[0].action, 'say');
  });
  after(() => stack.stop());

  /** The history as anyone with access to Temporal (its UI, its database) sees it: through a client without our codec. */
  async function rawHistory() {
    const plainClient = new Client({
      connection: stack.temporal.connection,
      namespace: stack.config.temporalNamespace,
    });
    return plainClient.workflow.getHandle(bookingWorkflowId(bookingId)).fetchHistory();
  }

  it("Temporal's history holds no party number in any format", async () => {
    const history = await rawHistory();
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
    assert.ok(bytes.includes(bookingId), 'the scan reads the real history');
    assert.ok((history.events ?? []).length > 20);
    assertNoNumberIn(bytes, 'the raw history');
  });

  it('a query answer leaves the worker encrypted too', async () => {
    const { queryResult } = await stack.temporal.connection.workflowService.queryWorkflow({
      namespace: stack.config.temporalNamespace,
      execution: { workflowId: bookingWorkflowId(bookingId) },
      query: { queryType: 'bookingState' },
    });
    const [answer] = queryResult?.payloads ?? [];
    assert.equal(Buffer.from(answer?.metadata?.encoding ?? []).toString(), 'binary/encrypted');
    assertNoNumberIn(Buffer.from(answer?.data ?? []).toString('latin1'), 'the raw query answer');
  });

  it("the codec endpoint decodes the history's payloads back to the booking request", async () => {
    const history = await rawHistory();
    const started = history.events?.find((event) => event.workflowExecutionStartedEventAttributes);
    const input = started?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    assert.equal(input.length, 1);
    const asJson = (payload: Payload) => ({
      metadata: Object.fromEntries(
        Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(payload.data ?? []).toString('base64'),
    });
    const response = await fetch(`${stack.baseUrl}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CODEC_TOKEN}`, 'x-namespace': 'default' },
      body: JSON.stringify({ payloads: input.map(asJson) }),
    });
    assert.equal(response.status, 200);
    const { payloads } = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    const decoded = defaultPayloadConverter.fromPayload<{ bookingId: string; parties: { number: string }[] }>({
      metadata: Object.fromEntries(
        Object.entries(payloads[0]?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
      ),
      data: Buffer.from(payloads[0]?.data ?? '', 'base64'),
    });
    assert.equal(decoded.bookingId, bookingId);
    assert.deepEqual(
      decoded.parties.map((party) => party.number),
      [RIDER, DRIVER],
    );
  });

  it('search attributes and memo hold no party number', async () => {
    const description = await stack.temporal.workflow.getHandle(bookingWorkflowId(bookingId)).describe();
    const attributes = Object.fromEntries(
      description.typedSearchAttributes.getAll().map((pair) => [pair.key.name, pair.value]),
    );
    // Ours, and Temporal's own (BuildIds): all of them are scanned.
    assert.ok('BookingStatus' in attributes && 'VirtualNumber' in attributes, JSON.stringify(attributes));
    assert.equal(attributes.BookingStatus, 'completed');
    assertNoNumberIn(
      JSON.stringify({
        attributes,
        memo: description.memo ?? null,
        raw: description.raw.workflowExecutionInfo?.searchAttributes,
      }),
      'the search attributes and memo',
    );
  });

  it('the logs, ours and the Temporal SDK’s, hold no number of anyone in any format', () => {
    const app = stack.logs.lines;
    const sdk = stack.temporalLogs.lines;
    // Something to scan: debug and trace lines, the story's workflow among them.
    assert.ok(app.length > 0 && sdk.length > 20, `${app.length} app lines, ${sdk.length} SDK lines`);
    const levels = JSON.stringify(countBy(sdk, (line) => /"level":"(\w+)"/.exec(line)?.[1] ?? 'none'));
    assert.ok(
      sdk.some((line) => line.includes('"level":"debug"')),
      `SDK lines by level: ${levels}`,
    );
    // (Which trace lines appear depends on the SDK's timing; that there are some is what matters here.)
    assert.ok(
      sdk.some((line) => line.includes('"level":"trace"')),
      `SDK lines by level: ${levels}`,
    );
    // As written, so that an operator finds the booking's lines: its random hex may hold seven digits in a row.
    const workflowId = bookingWorkflowId(bookingId);
    assert.ok(
      sdk.some((line) => line.includes(workflowId)),
      `no SDK line names ${workflowId}; SDK lines by level: ${levels}`,
    );
    assertNoNumberIn(app.join('\n'), 'the application logs');
    assertNoNumberIn(sdk.join('\n'), 'the Temporal SDK logs');
  });
});
