/**
 * The floor of Temporal's cost for a booking (bench/floor.ts): a workflow started by update-with-start that does
 * one store insert in a local activity, answers the update, and waits on a timer as a live booking does. Nothing of
 * Maskline's: no validation, no allocation, no search attributes, no payload encryption.
 */
import { condition, defineUpdate, proxyLocalActivities, setHandler, sleep } from '@temporalio/workflow';

export interface FloorBooking {
  bookingId: string;
  parties: { role: string; number: string }[];
  expiresInSeconds?: number;
}

export interface FloorActivities {
  insertBooking(booking: FloorBooking): Promise<string>;
}

export const createFloorBooking = defineUpdate<{ bookingId: string; virtualNumber: string }, [FloorBooking]>(
  'createFloorBooking',
);

const { insertBooking } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10 seconds' });

export async function floorBookingWorkflow(booking: FloorBooking): Promise<void> {
  const inserted: { virtualNumber?: string } = {};
  setHandler(createFloorBooking, async () => {
    await condition(() => inserted.virtualNumber !== undefined);
    return { bookingId: booking.bookingId, virtualNumber: inserted.virtualNumber! };
  });
  inserted.virtualNumber = await insertBooking(booking);
  await sleep(`${booking.expiresInSeconds ?? 900} seconds`);
}
