import { Command } from 'commander';
import type { BookingView } from '../bookings/contract';
import { bookingEventsCommand } from './bookingEvents';
import { apiUrlOption, masklineApi } from './masklineApi';
import { print, printTable } from './output';

/** `maskline bookings ...`: bookings as the booking platform sees them. */
export function bookingsCommand(): Command {
  const bookings = new Command('bookings').description('bookings and the calls between their parties');

  apiUrlOption(
    bookings
      .command('show')
      .description('a booking: its status, virtual number, parties and calls')
      .argument('<bookingId>', 'the booking platform’s id of the booking')
      .option('--json', 'print the API answer as it is'),
  ).action(async (bookingId: string, options: { apiUrl?: string; json?: boolean }) => {
    const booking = (await masklineApi(options).call(
      'GET',
      `/v1/bookings/${encodeURIComponent(bookingId)}`,
    )) as BookingView;
    if (options.json) {
      print(JSON.stringify(booking, null, 2));
      return;
    }
    print(`Booking ${booking.bookingId}: ${booking.status}`);
    print(`  virtual number  ${booking.virtualNumber ?? '(none)'}`);
    for (const party of booking.parties) print(`  ${party.role.padEnd(15)} ${party.number}`);
    print(`  created         ${booking.createdAt}`);
    print(`  expires         ${booking.expiresAt}`);
    if (booking.graceEndsAt) print(`  grace ends      ${booking.graceEndsAt}`);
    if (booking.endedAt) print(`  ended           ${booking.endedAt}`);
    print(`  calls           ${booking.calls.length}`);
    if (booking.calls.length > 0) {
      printTable(
        ['    SESSION', 'CALLER', 'STATUS', 'DURATION', 'STARTED'],
        booking.calls.map((call) => [
          `    ${call.sessionId}`,
          call.callerRole ?? '-',
          call.status,
          call.durationSeconds === undefined ? '-' : `${call.durationSeconds} s`,
          call.startedAt,
        ]),
      );
    }
  });

  bookings.addCommand(bookingEventsCommand());
  return bookings;
}
