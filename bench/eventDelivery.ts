/**
 * Delivery delay of booking events with a healthy receiver: from the event's time (when the workflow recorded
 * it) to its arrival at a loopback receiver, over `BOOKINGS` bookings created one after another, each with its
 * booking.active, booking.cancelled pair. Run: node --import tsx bench/eventDelivery.ts [bookings]
 */
import { randomBytes } from 'node:crypto';
import { EventReceiver } from '../harness/eventReceiver';
import { startOwnServers } from '../harness/ownServers';
import { api, eventually, startStack, uniqueId } from '../harness/stack';

const BOOKINGS = Number(process.argv[2] ?? 100);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main() {
  const servers = await startOwnServers();
  Object.assign(process.env, servers.env, { LOG_LEVEL: 'warn' });
  const receiver = await EventReceiver.start();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const stack = await startStack({
    env: { MASKLINE_EVENTS_URL: receiver.url, MASKLINE_EVENTS_SECRETS: secret },
    logLevel: 'warn',
  });
  try {
    await api(stack, 'POST', '/v1/numbers', { number: '+6560000001' });
    for (let i = 0; i < BOOKINGS; i++) {
      const bookingId = uniqueId('bench');
      const created = await api(stack, 'POST', '/v1/bookings', {
        bookingId,
        parties: [
          { role: 'rider', number: `+659${String(1000000 + i * 2)}` },
          { role: 'driver', number: `+659${String(1000001 + i * 2)}` },
        ],
      });
      if (created.status !== 201) throw new Error(`booking ${i}: ${created.status} ${JSON.stringify(created.body)}`);
      await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
    }
    await eventually(
      async () => receiver.accepted().length,
      (count) => count >= BOOKINGS * 2,
      120_000,
    );
    const delays = receiver.received
      .map((request) => request.receivedAt - Date.parse((JSON.parse(request.body) as { timestamp: string }).timestamp))
      .sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        events: delays.length,
        p50Ms: percentile(delays, 50),
        p95Ms: percentile(delays, 95),
        maxMs: delays.at(-1),
      }),
    );
  } finally {
    await stack.stop();
    await receiver.down();
    await servers.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
