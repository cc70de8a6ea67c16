import { randomBytes } from 'node:crypto';
import { EventReceiver } from '../harness/eventReceiver';
import { BOOKING_CREATION_DEFAULTS, bookingCreationBenchmark, type BookingCreationSettings } from './bookingCreation';
import { round } from './measure';
import { check, fmt, type Check } from './report';
import type { BenchStack } from './stack';

export const EVENTS_COST_DEFAULTS: BookingCreationSettings & { passes: number } = {
  ...BOOKING_CREATION_DEFAULTS,
  durationSeconds: 20,
  passes: 2,
};

/**
 * What booking events cost booking creation: the no-contention creation run of benchmark 3 with no receiver (the
 * events are recorded in the booking, none is sent) and with the deployment's receiver set (every booking.active
 * is signed and POSTed to a healthy loopback receiver, from the booking's own workflow). The runs alternate, off
 * then on, `passes` times, so that a machine that speeds up or slows down weighs on both alike.
 */
export async function eventsCostBenchmark(
  stack: BenchStack,
  settings: typeof EVENTS_COST_DEFAULTS,
  say: (line: string) => void,
) {
  const receiver = await EventReceiver.start();
  const withReceiver = {
    MASKLINE_EVENTS_URL: receiver.url,
    MASKLINE_EVENTS_SECRETS: `whsec_${randomBytes(24).toString('base64')}`,
  };
  const runs: { receiver: boolean; bookingsPerSecond: number; p50: number; p95: number; created: number }[] = [];
  const deliveredByType: Record<string, number> = {};
  const bookingsHeardOf = new Set<string>();
  let createdWithReceiver = 0;
  try {
    for (let pass = 1; pass <= settings.passes; pass++) {
      for (const on of [false, true]) {
        say(`  pass ${pass}, receiver ${on ? 'set' : 'not set'}`);
        const before = receiver.accepted().length;
        const run = await bookingCreationBenchmark(stack, settings, say, {
          name: 'events cost',
          env: on ? withReceiver : {},
        });
        const created = run.result.answerKinds.withNumber ?? 0;
        runs.push({
          receiver: on,
          bookingsPerSecond: run.bookingsPerSecond,
          p50: run.result.latencyMs.p50,
          p95: run.result.latencyMs.p95,
          created,
        });
        if (on) {
          createdWithReceiver += created;
          // The worker stops after the run: events it had not sent yet are sent by the next one (or not at all,
          // the run's database being dropped), so what arrived by then is the count.
          for (const event of receiver.accepted().slice(before)) {
            deliveredByType[event.type] = (deliveredByType[event.type] ?? 0) + 1;
            bookingsHeardOf.add(event.bookingId);
          }
        }
      }
    }
  } finally {
    await receiver.down();
  }
  const mean = (on: boolean, pick: (run: (typeof runs)[number]) => number) => {
    const chosen = runs.filter((run) => run.receiver === on).map(pick);
    return chosen.reduce((a, b) => a + b, 0) / Math.max(1, chosen.length);
  };
  const off = mean(false, (run) => run.bookingsPerSecond);
  const on = mean(true, (run) => run.bookingsPerSecond);
  const ratio = on / off;
  const name = '6 booking events';
  const checks: Check[] = [
    check(name, 'bookings/s, no receiver (mean of passes)', fmt(off), '', null),
    check(name, 'bookings/s, receiver set (mean of passes)', fmt(on), '', null),
    check(
      name,
      'p95 no receiver / receiver set',
      `${fmt(mean(false, (r) => r.p95))} / ${fmt(mean(true, (r) => r.p95))} ms`,
      '',
      null,
    ),
    check(name, 'throughput with receiver / without', fmt(ratio, 2), '>= 0.90', ratio >= 0.9),
    check(
      name,
      'events delivered by type; bookings they named (warm-up included) / created in the timed part',
      `${JSON.stringify(deliveredByType)}; ${bookingsHeardOf.size} / ${createdWithReceiver}`,
      '',
      null,
    ),
  ];
  return {
    settings,
    runs,
    bookingsPerSecond: { noReceiver: round(off, 1), receiverSet: round(on, 1) },
    ratio: round(ratio, 2),
    deliveredByType,
    bookingsHeardOf: bookingsHeardOf.size,
    createdWithReceiver,
    checks,
  };
}
