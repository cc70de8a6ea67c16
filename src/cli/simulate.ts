import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadEightByEightAccount } from '../config';
import { parseValidPhoneNumber } from '../domain/phoneNumbers';
import {
  callReceived,
  callRecordingStatus,
  callStatus,
  outboundCallStatus,
  sessionSummary,
  SIMULATED_SUBACCOUNT,
} from '../eightbyeight/simulatedWebhooks';
import { apiUrlOption, CliError, masklineApi, type MasklineApi } from './masklineApi';
import { print } from './output';

// Plays 8x8's part against a running Maskline: the webhooks 8x8 would send for a call to a virtual number,
// shaped exactly like 8x8's, with MASKLINE_WEBHOOK_SECRET as the Authorization header 8x8 would send.

interface CallflowAction {
  action: string;
  params?: Record<string, unknown>;
}

interface CallOptions {
  from: string;
  to: string;
  apiUrl?: string;
}

/** `maskline simulate ...`. */
export function simulateCommand(): Command {
  const simulate = new Command('simulate').description(
    "play 8x8's part against a running Maskline: post the webhooks 8x8 sends for a call to a virtual number",
  );

  callOptions(
    simulate
      .command('call')
      .description('a call arrives: post the CALL_ACTION webhook and print the callflow Maskline answers')
      .option('--json', 'print the answer as it is'),
  ).action(async (options: CallOptions & { json?: boolean }) => {
    const api = masklineApi(options);
    const call = await placeCall(api, options);
    if (options.json) print(JSON.stringify(call.answer, null, 2));
    else printCall(call);
  });

  callOptions(
    simulate
      .command('session')
      .description(
        'a whole call: the CALL_ACTION, then the CALL_STATUS events of both legs (CALL_INITIATED, CALL_CONNECTED, ' +
          'CALL_DISCONNECTED; only the caller’s leg when the caller is turned away) and the SESSION_SUMMARY; and, ' +
          'when Maskline asked 8x8 to record the call (a booking made with `record: true`), the ' +
          'CALL_RECORDING_STATUS of its upload',
      )
      .option('--duration <seconds>', 'how long the call lasted', seconds, 30)
      .addOption(
        new Option('--outcome <status>', 'how the other party answered, when put through')
          .choices(['COMPLETED', 'NO_ANSWER', 'BUSY'])
          .default('COMPLETED'),
      ),
  ).action(async (options: CallOptions & { duration: number; outcome: string }) => {
    const api = masklineApi(options);
    const call = await placeCall(api, options);
    printCall(call);
    print();
    await finishSession(api, call, options);
  });

  return simulate;
}

function callOptions(command: Command): Command {
  return apiUrlOption(
    command
      .requiredOption('--from <number>', 'the caller’s real number (or `anonymous` for a withheld one)')
      .requiredOption('--to <number>', 'the virtual number dialled'),
  );
}

function seconds(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 86_400)
    throw new InvalidArgumentError('whole seconds, 0 to 86400');
  return value;
}

interface PlacedCall {
  sessionId: string;
  callIdA: string;
  subAccountId: string;
  caller: string;
  virtualNumber: string;
  answer: { callflow?: CallflowAction[] };
  /** The other party, when Maskline put the call through. */
  callee: string | null;
}

async function placeCall(api: MasklineApi, options: CallOptions): Promise<PlacedCall> {
  const caller = options.from.toLowerCase() === 'anonymous' ? 'anonymous' : e164(options.from, '--from');
  const virtualNumber = e164(options.to, '--to');
  const sessionId = randomUUID();
  const callIdA = randomUUID();
  const subAccountId = loadEightByEightAccount()?.subAccountId ?? SIMULATED_SUBACCOUNT;
  print(`→ CALL_ACTION CALL_RECEIVED  from ${caller} to ${virtualNumber}  (session ${sessionId})`);
  const response = await api.webhook(
    '/call-action',
    callReceived(caller, virtualNumber, sessionId, { callId: callIdA, subAccountId }),
  );
  const answer = response.body as PlacedCall['answer'];
  if (response.status !== 200 || !Array.isArray(answer?.callflow)) {
    throw new CliError(`Maskline answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  const makeCall = answer.callflow.find((action) => action.action === 'makeCall');
  const callee = typeof makeCall?.params?.destination === 'string' ? makeCall.params.destination : null;
  return { sessionId, callIdA, subAccountId, caller, virtualNumber, answer, callee };
}

function printCall(call: PlacedCall): void {
  print(`← 200 with the callflow:`);
  (call.answer.callflow ?? []).forEach((action, i) => print(`    ${i + 1}. ${describeAction(action)}`));
  const makeCall = call.answer.callflow?.find((action) => action.action === 'makeCall');
  if (makeCall) {
    print(
      `8x8 would put the caller through to ${String(makeCall.params?.destination)}, who sees ${String(makeCall.params?.source)}.`,
    );
  } else {
    print('8x8 would play the notice to the caller and end the call: no live booking pairs them with this number.');
  }
}

function describeAction(action: CallflowAction): string {
  const params = action.params ?? {};
  switch (action.action) {
    case 'makeCall':
      return (
        `makeCall  source ${String(params.source)}, destination ${String(params.destination)}` +
        (params.callRecording === true ? ', recorded' : '')
      );
    case 'say':
      return `say       "${String(params.text)}" (${String(params.voiceProfile)})`;
    case 'hangup':
      return 'hangup';
    default:
      return `${action.action}  ${JSON.stringify(params)}`;
  }
}

/** The rest of the session as 8x8 reports it: both legs' status changes, then the summary. */
async function finishSession(
  api: MasklineApi,
  call: PlacedCall,
  options: { duration: number; outcome: string },
): Promise<void> {
  const end = Date.now();
  const answered = end - options.duration * 1000;
  const at = (ms: number) => new Date(ms).toISOString();
  const common = { sessionId: call.sessionId, subAccountId: call.subAccountId };
  const legA = { ...common, callId: call.callIdA, caller: call.caller, virtualNumber: call.virtualNumber };
  const events: { label: string; body: unknown }[] = [];
  const inbound = (status: string, time: number, duration = 0) =>
    events.push({
      label: `leg A (caller)  ${status}`,
      body: callStatus({ ...legA, callStatus: status, timestamp: at(time), callDuration: duration }),
    });

  if (call.callee) {
    const legB = { ...common, callId: randomUUID(), virtualNumber: call.virtualNumber, callee: call.callee };
    const outbound = (status: string, time: number, duration = 0) =>
      events.push({
        label: `leg B (callee)  ${status}`,
        body: outboundCallStatus({ ...legB, callStatus: status, timestamp: at(time), callDuration: duration }),
      });
    const connected = options.outcome === 'COMPLETED';
    inbound('CALL_INITIATED', answered - 5_000);
    outbound('CALL_INITIATED', answered - 4_000);
    if (connected) {
      inbound('CALL_CONNECTED', answered);
      outbound('CALL_CONNECTED', answered);
    }
    outbound('CALL_DISCONNECTED', end, connected ? options.duration : 0);
    inbound('CALL_DISCONNECTED', end, connected ? options.duration : 0);
  } else {
    inbound('CALL_INITIATED', answered - 1_000);
    inbound('CALL_CONNECTED', answered);
    inbound('CALL_DISCONNECTED', end, options.duration);
  }
  const status = call.callee ? options.outcome : 'COMPLETED';
  events.push({
    label: `session summary  ${status}`,
    body: sessionSummary({
      ...common,
      caller: call.caller,
      virtualNumber: call.virtualNumber,
      callee: call.callee,
      sessionStatus: status,
      durationSeconds: call.callee && status !== 'COMPLETED' ? 0 : options.duration,
      callIdA: call.callIdA,
    }),
  });

  // 8x8 uploads the recording of a call it was asked to record, once the call is over.
  const makeCall = call.answer.callflow?.find((action) => action.action === 'makeCall');
  if (makeCall?.params?.callRecording === true && status === 'COMPLETED') {
    events.push({
      label: `recording uploaded  ${options.duration} s`,
      body: callRecordingStatus({ ...common, durationSeconds: options.duration }),
    });
  }

  for (const event of events) {
    const isSummary = event.label.startsWith('session');
    const isRecording = event.label.startsWith('recording');
    const path = isSummary ? '/session-summary' : isRecording ? '/call-recording-status' : '/call-status';
    const response = await api.webhook(path, event.body);
    const outcome = (response.body as { outcome?: string } | undefined)?.outcome ?? JSON.stringify(response.body);
    const type = isSummary ? 'SESSION_SUMMARY' : isRecording ? 'CALL_RECORDING_STATUS' : 'CALL_STATUS';
    print(`→ ${type.padEnd(15)}  ${event.label.padEnd(34)}← ${response.status} ${outcome}`);
    if (response.status !== 200) throw new CliError(`Maskline refused the event: ${JSON.stringify(response.body)}`);
  }
}

function e164(raw: string, option: string): string {
  const parsed = parseValidPhoneNumber(raw);
  if (!parsed) throw new CliError(`${option}: not a valid phone number (E.164, e.g. +6591234567): ${raw}`);
  return parsed.e164;
}
