/**
 * The floor's HTTP endpoint (bench/floor.ts): Koa and the same JSON body parser as ours, and one update-with-start
 * of floorWorkflow.ts per request, answered 201 with what the update returns. No authentication, validation or
 * logging; one Temporal client with the SDK's defaults.
 */
import { bodyParser } from '@koa/bodyparser';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import Koa from 'koa';
import { createFloorBooking, floorBookingWorkflow, type FloorBooking } from './floorWorkflow';

async function main() {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE ?? 'bench-floor';
  const app = new Koa();
  app.use(bodyParser({ enableTypes: ['json'], detectJSON: () => true }));
  app.use(async (ctx) => {
    const booking = ctx.request.body as FloorBooking;
    const startWorkflowOperation = new WithStartWorkflowOperation(floorBookingWorkflow, {
      workflowId: `floor-${booking.bookingId}`,
      taskQueue,
      args: [booking],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    ctx.body = await client.workflow.executeUpdateWithStart(createFloorBooking, {
      args: [booking],
      startWorkflowOperation,
    });
    ctx.status = 201;
  });
  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () =>
    process.stdout.write(`listening ${process.env.PORT}\n`),
  );
  server.keepAliveTimeout = 65_000;
  process.once('SIGTERM', () => {
    server.close();
    server.closeIdleConnections();
    void connection.close().then(() => process.exit(0));
  });
}

void main();
