/**
 * The floor's worker (bench/floor.ts): the workflow of floorWorkflow.ts and its one local activity, an insert by
 * _id into the store. SDK defaults throughout, as a first Temporal worker would have them.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { MongoClient, MongoServerError } from 'mongodb';
import type { FloorActivities } from './floorWorkflow';

async function main() {
  const mongo = await MongoClient.connect(process.env.MONGODB_URI ?? '', { maxPoolSize: 50 });
  const bookings = mongo.db().collection<{ _id: string; parties: unknown; createdAt: Date }>('floorBookings');
  const activities: FloorActivities = {
    async insertBooking(booking) {
      try {
        await bookings.insertOne({ _id: booking.bookingId, parties: booking.parties, createdAt: new Date() });
      } catch (error) {
        // A retried attempt finds its own insert.
        if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
      }
      return '+6561000000';
    },
  };
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: process.env.TEMPORAL_TASK_QUEUE ?? 'bench-floor',
    workflowsPath: require.resolve('./floorWorkflow'),
    activities,
  });
  process.stdout.write('floor worker running\n');
  await worker.run();
  await connection.close();
  await mongo.close();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `floor worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
