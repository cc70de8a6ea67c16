import { Command } from 'commander';
import type { BookingEventRecord } from '../events/bookingEvents';
import { apiUrlOption, masklineApi } from './masklineApi';
import { print, printTable } from './output';

/** `maskline bookings events <bookingId>`: what the platform was sent about a booking, and how each delivery went. */
export function bookingEventsCommand(): Command {
  return apiUrlOption(
    new Command('events')
      .description("a booking's events: each one sent to the platform, with its delivery's outcome")
      .argument('<bookingId>', 'the booking platform’s id of the booking')
      .option('--redeliver <eventId>', 'send this event again (with its id, so a receiver that dedupes sees it once)')
      .option('--json', 'print the API answer as it is'),
  ).action(async (bookingId: string, options: { apiUrl?: string; json?: boolean; redeliver?: string }) => {
    const api = masklineApi(options);
    const path = `/v1/bookings/${encodeURIComponent(bookingId)}/events`;
    if (options.redeliver !== undefined) {
      const record = (await api.call(
        'POST',
        `${path}/${encodeURIComponent(options.redeliver)}/redeliver`,
      )) as BookingEventRecord;
      if (options.json) print(JSON.stringify(record, null, 2));
      else print(`${record.event.id} (${record.event.type}) will be sent again`);
      return;
    }
    const answer = (await api.call('GET', path)) as { bookingId: string; events: BookingEventRecord[] };
    if (options.json) {
      print(JSON.stringify(answer, null, 2));
      return;
    }
    print(`Events of booking ${answer.bookingId}: ${answer.events.length}`);
    printTable(
      ['ID', 'TYPE', 'AT', 'DELIVERY', 'ATTEMPTS', 'ANSWER'],
      answer.events.map(({ event, delivery }) => [
        event.id,
        event.type,
        event.timestamp,
        delivery.status + (delivery.redeliveries > 0 ? ` (redelivery ${delivery.redeliveries})` : ''),
        String(delivery.attempts),
        delivery.error ?? (delivery.responseStatus === null ? '-' : String(delivery.responseStatus)),
      ]),
    );
  });
}
