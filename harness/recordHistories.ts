/**
 * Records one history of every workflow type, in the ways a booking can go, for the replay test
 * (test/workflows.replay.test.ts): `node --import tsx harness/recordHistories.ts <folder>`. It starts servers
 * of its own and the in-process stack, plays each story through the HTTP API and 8x8-shaped webhooks, and writes
 * each workflow's history as JSON. Party numbers in it are test numbers, encrypted with the stack's test key.
 * Record a new set whenever a workflow changes (keep the old sets: they are what running bookings look like).
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { callRecordRetentionWorkflow } from '../workflows/retention';
import { numberSyncWorkflow } from '../workflows/numberSync';
import { reconcilePairingsWorkflow } from '../workflows/reconciliation';
import { storeRoundTripWorkflow } from '../workflows/diagnostics';
import { callReceived, callRecordingStatus, callStatus, sessionSummary } from '../src/eightbyeight/simulatedWebhooks';
import { EventReceiver } from './eventReceiver';
import { startOwnServers } from './ownServers';
import { api, eventually, startStack, uniqueId, webhook } from './stack';

const RIDER = '+6591230101';
const DRIVER = '+6598760101';

async function main() {
  const out = path.resolve(process.argv[2] ?? 'test/fixtures/histories/new');
  fs.mkdirSync(out, { recursive: true });
  const servers = await startOwnServers();
  Object.assign(process.env, servers.env);
  // Every booking has a receiver of its events, so the histories carry their delivery; it refuses while
  // `receiverDown`, so one booking ends owing events and hands them to a booking-events workflow.
  const receiver = await EventReceiver.start();
  let receiverDown = false;
  receiver.answer = () => (receiverDown ? 503 : 204);
  const stack = await startStack({
    logLevel: 'warn',
    env: {
      MASKLINE_EVENTS_URL: receiver.url,
      MASKLINE_EVENTS_SECRETS: `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
    },
  });
  const written: string[] = [];
  const save = async (name: string, workflowId: string) => {
    const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
    // protobufjs's own JSON (bytes as base64, 64-bit integers as strings): History.fromObject reads it back.
    const json = temporal.api.history.v1.History.fromObject(history).toJSON();
    fs.writeFileSync(path.join(out, `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
    written.push(name);
  };
  const ended = (bookingId: string) =>
    eventually(
      () => api(stack, 'GET', `/v1/bookings/${bookingId}`),
      (answer) => answer.body?.endedAt !== null && answer.body?.status !== 'completing',
      30_000,
    );
  try {
    await api(stack, 'POST', '/v1/numbers', { number: '+6560009001' });
    const ride = (bookingId: string, extra: Record<string, unknown> = {}, rider = RIDER) => ({
      bookingId,
      parties: [
        { role: 'rider', number: rider },
        { role: 'driver', number: DRIVER },
      ],
      ...extra,
    });

    // Completed after calls, through the grace period; asked for twice.
    const completed = uniqueId('completed');
    const created = await api(stack, 'POST', '/v1/bookings', ride(completed, { gracePeriodSeconds: 1 }));
    await api(stack, 'POST', '/v1/bookings', ride(completed, { gracePeriodSeconds: 1 }));
    const vn = created.body.virtualNumber as string;
    const call = callReceived(RIDER, vn);
    await webhook(stack, '/call-action', call);
    const sessionId = call.payload.sessionId;
    await webhook(
      stack,
      '/call-status',
      callStatus({ sessionId, caller: RIDER, virtualNumber: vn, callStatus: 'CALL_CONNECTED' }),
    );
    await webhook(
      stack,
      '/session-summary',
      sessionSummary({
        sessionId,
        caller: RIDER,
        virtualNumber: vn,
        callee: DRIVER,
        sessionStatus: 'COMPLETED',
        durationSeconds: 42,
      }),
    );
    await eventually(
      () => api(stack, 'GET', `/v1/bookings/${completed}`),
      (answer) => answer.body.calls.length === 1 && answer.body.calls[0].endedAt !== undefined,
    );
    await api(stack, 'POST', `/v1/bookings/${completed}/complete`);
    await ended(completed);
    await save('booking-completed', `booking-${completed}`);

    // Cancelled while the platform's receiver is down: the booking ends owing its events, and hands them over.
    const cancelled = uniqueId('cancelled');
    receiverDown = true;
    await api(stack, 'POST', '/v1/bookings', ride(cancelled));
    await api(stack, 'POST', `/v1/bookings/${cancelled}/cancel`);
    await ended(cancelled);
    await eventually(
      async () => (await stack.temporal.workflow.getHandle(`booking-${cancelled}`).describe()).status.name,
      (status) => status !== 'RUNNING',
      60_000,
    );
    await save('booking-cancelled', `booking-${cancelled}`);
    receiverDown = false;
    const handedOver = await eventually(
      async () => {
        for await (const run of stack.temporal.workflow.list({
          query: `WorkflowType = 'bookingEventsWorkflow' AND ExecutionStatus = 'Completed'`,
        })) {
          return run.workflowId;
        }
        return null;
      },
      (workflowId) => workflowId !== null,
      60_000,
    );
    await save('booking-events-handed-over', handedOver!);

    // Recorded: a call of a booking made with record: true, and the recording 8x8 uploaded; then cancelled.
    const recorded = uniqueId('recorded');
    const recordedVn = (await api(stack, 'POST', '/v1/bookings', ride(recorded, { record: true }))).body
      .virtualNumber as string;
    const recordedCall = callReceived(RIDER, recordedVn);
    await webhook(stack, '/call-action', recordedCall);
    const recordedSession = recordedCall.payload.sessionId;
    await eventually(
      () => stack.database.collections.callSessions.findOne({ _id: recordedSession }),
      (session) => session !== null,
    );
    await webhook(
      stack,
      '/call-recording-status',
      callRecordingStatus({ sessionId: recordedSession, durationSeconds: 5 }),
    );
    await eventually(
      () => api(stack, 'GET', `/v1/bookings/${recorded}`),
      (answer) => answer.body.calls[0]?.recordings !== undefined,
    );
    await api(stack, 'POST', `/v1/bookings/${recorded}/cancel`);
    await ended(recorded);
    await save('booking-recorded', `booking-${recorded}`);

    const expired = uniqueId('expired');
    await api(stack, 'POST', '/v1/bookings', ride(expired, { expiresInSeconds: 1 }));
    await ended(expired);
    await save('booking-expired', `booking-${expired}`);

    // Refused: the only number is held by the rider already.
    const holding = uniqueId('holding');
    await api(stack, 'POST', '/v1/bookings', ride(holding));
    const refused = uniqueId('refused');
    await api(stack, 'POST', '/v1/bookings', {
      bookingId: refused,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: '+6598760102' },
      ],
    });
    await save('booking-refused', `booking-${refused}`);
    await api(stack, 'POST', `/v1/bookings/${holding}/cancel`);
    await ended(holding);

    const taskQueue = stack.config.temporalTaskQueue;
    const runs = [
      ['reconcile-pairings', reconcilePairingsWorkflow, []],
      ['call-record-retention', callRecordRetentionWorkflow, [90]],
      ['store-round-trip', storeRoundTripWorkflow, ['history-probe']],
      ['number-sync-not-configured', numberSyncWorkflow, []],
    ] as const;
    for (const [name, workflow, args] of runs) {
      const workflowId = uniqueId(name);
      await stack.temporal.workflow
        .execute(workflow as never, { workflowId, taskQueue, args: args as never })
        .catch(() => undefined);
      await save(name, workflowId);
    }
  } finally {
    await stack.stop();
    await servers.stop();
    await receiver.down();
  }
  process.stdout.write(`recorded ${written.length} histories in ${out}: ${written.join(', ')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
