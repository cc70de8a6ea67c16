import { Command } from 'commander';
import type { OperationsSummary } from '../operations/operationsSummary';
import { apiUrlOption, masklineApi } from './masklineApi';
import { print, printTable } from './output';

const seconds = (value: number | null) =>
  value === null ? 'unknown' : value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
const known = (value: number | null) => (value === null ? 'unknown' : String(value));

/** `maskline pool`: the pool's headroom per country and the service's vital figures, as the dashboard shows them. */
export function poolCommand(): Command {
  return apiUrlOption(
    new Command('pool')
      .description(
        'headroom of the number pool per country (free, held, unavailable; people who hold every number of a ' +
          'country), bookings, call actions, pending call events and the last number sync: GET /v1/operations/summary',
      )
      .option('--json', 'print the API answer as it is'),
  ).action(async (options: { apiUrl?: string; json?: boolean }) => {
    const summary = (await masklineApi(options).call('GET', '/v1/operations/summary')) as OperationsSummary;
    if (options.json) {
      print(JSON.stringify(summary, null, 2));
      return;
    }
    print(`Pool headroom at ${summary.generatedAt}`);
    printTable(
      ['COUNTRY', 'FREE', 'HELD', 'UNAVAILABLE', 'LIVE BOOKINGS', 'PEOPLE AT CAPACITY', 'BUSIEST PERSON ROOM'],
      summary.pool.countries.map((country) => [
        country.country ?? '-',
        String(country.free),
        String(country.held),
        String(country.unavailable),
        String(country.liveBookings),
        String(country.partiesAtCapacity),
        String(country.busiestPartyRoom),
      ]),
    );
    const { bookings, callActions, callEvents, numberSync } = summary;
    const created = bookings.createdPerMinute?.reduce((sum, minute) => sum + minute.count, 0) ?? null;
    print();
    print(`Bookings:       ${bookings.active} active, ${bookings.completing} completing`);
    print(
      `                ${known(created)} created in the last 15 min, ${known(bookings.refusedLastHour)} refused in the last hour`,
    );
    print(
      `Call actions:   p95 ${seconds(callActions.p95Seconds)} (budget ${seconds(callActions.budgetSeconds)}), ` +
        `notice rate ${callActions.noticeRate === null ? 'unknown' : `${(callActions.noticeRate * 100).toFixed(1)} %`}`,
    );
    print(`Call events:    ${callEvents.pending} pending`);
    print(
      `Number sync:    ${numberSync === null ? 'unknown' : `last success ${numberSync.lastSuccessAt ?? 'never'}` + (numberSync.lastRunStatus ? `, last run ${numberSync.lastRunStatus}` : '')}`,
    );
  });
}
