import { Command } from 'commander';
import type { NumberSyncPlan, StatusChange } from '../domain/numberSync';
import { parseValidPhoneNumber } from '../domain/phoneNumbers';
import { describeSyncResult, NumberSync, type NumberSyncResult } from '../numbers/numberSync';
import { connectDatabase } from '../store/database';
import { NumberPool, type PoolNumber } from '../store/numberPool';
import { eightByEightClient } from './eightByEight';
import { readEnvironment } from './environment';
import { apiUrlOption, CliError, masklineApi } from './masklineApi';
import { print, printTable } from './output';

function phoneNumberArgument(raw: string, name = 'number'): string {
  const parsed = parseValidPhoneNumber(raw);
  if (!parsed) throw new CliError(`${name}: not a valid phone number (E.164, e.g. +6560000001): ${raw}`);
  return parsed.e164;
}

/** `maskline numbers ...`: Maskline's pool of virtual numbers. */
export function numbersCommand(): Command {
  const numbers = new Command('numbers').description('the pool of virtual numbers Maskline gives to bookings');

  numbers
    .command('sync')
    .description(
      "pull the 8x8 subaccount's virtual numbers into the pool: new Active numbers become allocatable; Expiring, " +
        'Inactive or unhealthy ones take no new bookings (bookings that hold them keep them); numbers gone from ' +
        "8x8 drain (only when 8x8's list is whole: it gives a total and lists that many). Talks to 8x8 and to the " +
        "store (MONGODB_URI) directly; the worker's schedule does the same hourly. Tries 8x8 up to 3 times on 5xx, " +
        '429 and network failures, waiting out a Retry-After of up to a minute',
    )
    .option('--dry-run', 'show what would change, change nothing')
    .action(async (options: { dryRun?: boolean }) => {
      const client = eightByEightClient();
      const database = await connectDatabase(readEnvironment().mongodbUri);
      try {
        const sync = new NumberSync(new NumberPool(database.collections), { client });
        if (options.dryRun) {
          printPlan(await sync.planFromAccount());
          return;
        }
        const result = await sync.syncFromAccount();
        print(`Synced the pool with 8x8 subaccount ${client.account.subAccountId}: ${describeSyncResult(result)}`);
        printResult(result);
      } finally {
        await database.close();
      }
    });

  apiUrlOption(
    numbers.command('list').description('every number of the pool with its status and live bookings'),
  ).action(async (options: { apiUrl?: string }) => {
    const api = masklineApi(options);
    // The API answers a page at a time; the operator asked for every number.
    const all: PoolNumber[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/numbers?limit=200${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const answer = (await api.call('GET', path)) as { numbers: PoolNumber[]; nextCursor: string | null };
      all.push(...answer.numbers);
      cursor = answer.nextCursor;
    } while (cursor !== null);
    printTable(
      ['NUMBER', 'STATUS', 'LIVE BOOKINGS', 'COUNTRY', 'REFERENCE'],
      all.map((n) => [n.number, n.status, String(n.liveBookings), n.countryCode ?? '-', n.referenceId ?? '-']),
    );
  });

  apiUrlOption(
    numbers
      .command('add')
      .description('add a virtual number of the subaccount to the pool, allocatable at once')
      .argument('<number>', 'the virtual number, E.164, e.g. +6560000001')
      .option('--reference-id <id>', "8x8's referenceId of the number")
      .option('--country <code>', 'ISO country code (default: from the number)')
      .option('--pin', 'add it to the PIN set: only PIN-fallback bookings get it, many at once, each with a PIN'),
  ).action(async (raw: string, options: { apiUrl?: string; referenceId?: string; country?: string; pin?: boolean }) => {
    const number = phoneNumberArgument(raw);
    const added = (await masklineApi(options).call('POST', '/v1/numbers', {
      number,
      ...(options.referenceId ? { referenceId: options.referenceId } : {}),
      ...(options.country ? { countryCode: options.country } : {}),
      ...(options.pin ? { use: 'pin' } : {}),
    })) as PoolNumber;
    const set = added.use === 'pin' ? ', PIN set' : '';
    print(`added ${added.number} (${added.countryCode ?? 'no country'}${set}): ${added.status}`);
  });

  numberStatusCommand(numbers, {
    name: 'drain',
    description:
      'stop giving the number to new bookings; bookings that hold it keep it. Never undone by a sync; ' +
      '`numbers restore` gives it back',
    request: (path) => ['DELETE', path],
    said: (drained) =>
      `${drained.number} is ${drained.status}: it takes no new bookings; ${drained.liveBookings} live booking(s) keep it`,
  });

  numberStatusCommand(numbers, {
    name: 'restore',
    description:
      'give a drained or disabled number back to the pool: it takes new bookings again. The one way back from a ' +
      "drain; the next sync still applies 8x8's word (a number 8x8 no longer lists drains again)",
    request: (path) => ['POST', `${path}/restore`],
    said: (restored) => `${restored.number} is ${restored.status} again: it takes new bookings`,
  });

  return numbers;
}

/** A command that changes one number's status through the API (`drain`, `restore`) and says what it is now. */
function numberStatusCommand(
  numbers: Command,
  command: {
    name: string;
    description: string;
    /** The API request, from the number's path `/v1/numbers/<number>`. */
    request: (path: string) => ['DELETE' | 'POST', string];
    said: (number: PoolNumber) => string;
  },
): void {
  apiUrlOption(
    numbers.command(command.name).description(command.description).argument('<number>', 'the virtual number, E.164'),
  ).action(async (raw: string, options: { apiUrl?: string }) => {
    const number = phoneNumberArgument(raw);
    const [method, path] = command.request(`/v1/numbers/${encodeURIComponent(number)}`);
    print(command.said((await masklineApi(options).call(method, path)) as PoolNumber));
  });
}

function printChanges(changes: StatusChange[]) {
  for (const change of changes) {
    print(
      `  ${change.to === 'draining' ? '-' : '~'} ${change.number}  ${change.from} → ${change.to} (${change.reason})`,
    );
  }
}

function printResult(result: NumberSyncResult): void {
  for (const number of result.added) print(`  + ${number}  added, active`);
  printChanges(result.changed);
  for (const { number, reason } of result.notAdded) print(`  ! ${number}  not added (${reason})`);
  for (const number of result.skipped) print(`  ? ${number}  changed by someone else meanwhile; left as found`);
}

function printPlan(plan: NumberSyncPlan & { partial: string | null }): void {
  print(
    `Dry run: would add ${plan.additions.length}, change ${plan.changes.length}, leave ${plan.unchanged} as they are` +
      (plan.partial ? `; ${plan.partial}` : ''),
  );
  for (const entry of plan.additions) print(`  + ${entry.number}  would be added, active`);
  printChanges(plan.changes);
  for (const { number, reason } of plan.notAdded) print(`  ! ${number}  would not be added (${reason})`);
}
