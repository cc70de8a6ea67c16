import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadEightByEightAccount } from '../config';
import { parseValidPhoneNumber } from '../domain/phoneNumbers';
import {
  callReceived,
  callRecordingStatus,
  callStatus,
  digitsEntered,
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
  from?: string;
  to?: string;
  booking?: string;
  as?: string;
  digits?: string;
  apiUrl?: string;
}

interface BookingSeen {
  bookingId: string;
  status: string;
  virtualNumber: string | null;
  parties: { role: string; number: string }[];
}

interface EventRecord {
  event: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
  delivery: { status: string };
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
    const before = await eventIds(api, options.booking);
    const call = await placeCall(api, options);
    if (options.json) print(JSON.stringify(call.answer, null, 2));
    else printCall(call);
    if (!options.json && options.booking !== undefined) await printNewEvents(api, options.booking, before);
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
    const before = await eventIds(api, options.booking);
    const call = await placeCall(api, options);
    printCall(call);
    print();
    await finishSession(api, call, options);
    if (options.booking !== undefined) await printNewEvents(api, options.booking, before);
  });

  return simulate;
}

function callOptions(command: Command): Command {
  return apiUrlOption(
    command
      .option('--from <number>', 'the caller’s real number (or `anonymous` for a withheld one)')
      .option('--to <number>', 'the virtual number dialled')
      .option(
        '--booking <bookingId>',
        'play a party of this booking (see --as), dialling its virtual number unless --to says otherwise; after ' +
          'the booking ended this is a late caller. Prints the booking events the call produced',
      )
      .option('--as <role>', 'with --booking: the role of the party who calls (default: the first party)')
      .option(
        '--digits <keys>',
        'when Maskline asks the caller to press keys (the PIN of a PIN-fallback booking; the menu of a booking of ' +
          'several parties: `--digits 2` picks its second party), post the ACTION_COMPLETED follow-up with them',
        keys,
      ),
  );
}

function keys(raw: string): string {
  if (!/^[0-9*#]{1,16}$/.test(raw)) throw new InvalidArgumentError('keys of a phone: 0-9, * and #');
  return raw;
}

/** The caller and the number dialled: as given, or the party of --booking (which may have ended). */
async function resolveCall(api: MasklineApi, options: CallOptions): Promise<{ from: string; to: string }> {
  if (options.booking === undefined) {
    if (options.from === undefined || options.to === undefined) {
      throw new CliError('give --from and --to, or --booking (with --as)');
    }
    return { from: options.from, to: options.to };
  }
  const booking = (await api.call('GET', `/v1/bookings/${encodeURIComponent(options.booking)}`)) as BookingSeen;
  const party = options.as === undefined ? booking.parties[0] : booking.parties.find((p) => p.role === options.as);
  if (!party) {
    const roles = booking.parties.map((p) => p.role).join(', ');
    throw new CliError(`--as: booking ${booking.bookingId} has no party ${options.as} (its roles: ${roles})`);
  }
  const to = options.to ?? booking.virtualNumber;
  if (to === null)
    throw new CliError(`booking ${booking.bookingId} has no virtual number (${booking.status}); give --to`);
  print(`booking ${booking.bookingId} is ${booking.status}: its ${party.role} calls ${to}`);
  return { from: options.from ?? party.number, to };
}

/** The ids of the booking's events so far, to tell which ones the simulated call adds. */
async function eventIds(api: MasklineApi, bookingId: string | undefined): Promise<Set<string>> {
  if (bookingId === undefined) return new Set();
  const answer = (await api.call('GET', `/v1/bookings/${encodeURIComponent(bookingId)}/events`)) as {
    events: EventRecord[];
  };
  return new Set(answer.events.map((record) => record.event.id));
}

/**
 * The events the call added to the booking. They are emitted a moment after the webhooks are answered (the
 * booking's workflow takes them in, or, for a booking that has ended, its events workflow): waits until none has
 * come for a second, three seconds at most.
 */
async function printNewEvents(api: MasklineApi, bookingId: string, before: Set<string>): Promise<void> {
  const path = `/v1/bookings/${encodeURIComponent(bookingId)}/events`;
  const deadline = Date.now() + 3_000;
  let fresh: EventRecord[] = [];
  let quietSince = Date.now();
  while (Date.now() < deadline && Date.now() - quietSince < 1_000) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answer = (await api.call('GET', path)) as { events: EventRecord[] };
    const now = answer.events.filter((record) => !before.has(record.event.id));
    if (now.length !== fresh.length) quietSince = Date.now();
    fresh = now;
  }
  print();
  if (fresh.length === 0) {
    print(`booking ${bookingId}: no event from this call`);
    return;
  }
  print(`booking ${bookingId}: the events this call produced`);
  for (const { event, delivery } of fresh) {
    print(`    ${event.type.padEnd(18)} ${event.id}  ${JSON.stringify(event.data)}  (${delivery.status})`);
  }
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
  answer: { clientActionId?: string; callflow: CallflowAction[] };
  /** The other party, when Maskline put the call through. */
  callee: string | null;
}

async function placeCall(api: MasklineApi, options: CallOptions): Promise<PlacedCall> {
  const { from, to } = await resolveCall(api, options);
  const caller = from.toLowerCase() === 'anonymous' ? 'anonymous' : e164(from, '--from');
  const virtualNumber = e164(to, '--to');
  const sessionId = randomUUID();
  const callIdA = randomUUID();
  const subAccountId = loadEightByEightAccount()?.subAccountId ?? SIMULATED_SUBACCOUNT;
  print(`→ CALL_ACTION CALL_RECEIVED  from ${caller} to ${virtualNumber}  (session ${sessionId})`);
  const response = await api.webhook(
    '/call-action',
    callReceived(caller, virtualNumber, sessionId, { callId: callIdA, subAccountId }),
  );
  let answer = callflowOf(response);
  // 8x8 asks the caller for keys (a PIN, a menu choice), and posts them back on the same session once entered.
  if (answer.callflow.some((action) => action.action === 'sayAndCapture') && options.digits !== undefined) {
    print(`← 200 with the callflow:`);
    answer.callflow.forEach((action, i) => print(`    ${i + 1}. ${describeAction(action)}`));
    print(`→ CALL_ACTION ACTION_COMPLETED  the caller pressed ${options.digits}  (${answer.clientActionId ?? ''})`);
    const followUp = digitsEntered(caller, virtualNumber, {
      sessionId,
      clientActionId: answer.clientActionId ?? '',
      digits: options.digits,
    });
    answer = callflowOf(await api.webhook('/call-action', followUp));
  }
  const makeCall = answer.callflow.find((action) => action.action === 'makeCall');
  const callee = typeof makeCall?.params?.destination === 'string' ? makeCall.params.destination : null;
  return { sessionId, callIdA, subAccountId, caller, virtualNumber, answer, callee };
}

function callflowOf(response: { status: number; body: unknown }): PlacedCall['answer'] {
  const answer = response.body as PlacedCall['answer'] | undefined;
  if (response.status !== 200 || !Array.isArray(answer?.callflow)) {
    throw new CliError(`Maskline answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return answer;
}

function printCall(call: PlacedCall): void {
  print(`← 200 with the callflow:`);
  (call.answer.callflow ?? []).forEach((action, i) => print(`    ${i + 1}. ${describeAction(action)}`));
  const makeCall = call.answer.callflow?.find((action) => action.action === 'makeCall');
  if (makeCall) {
    print(
      `8x8 would put the caller through to ${String(makeCall.params?.destination)}, who sees ${String(makeCall.params?.source)}.`,
    );
  } else if (call.answer.callflow.some((action) => action.action === 'sayAndCapture')) {
    print('8x8 would ask the caller to press keys (a PIN, or a menu choice): give --digits to press them.');
  } else {
    print('8x8 would play the notice to the caller and end the call: no booking puts them through on this number.');
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
    case 'sayAndCapture':
      return `sayAndCapture "${String(params.promptMessage)}" (${String(params.minDigits)}-${String(params.maxDigits)} keys)`;
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
