import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logging/logger';
import { connectDatabase, ensureIndexes } from '../store/database';
import { createBookingWorker, installTemporalLogging } from '../temporal/worker';

/** The Temporal worker process: runs booking workflows and their activities until SIGINT/SIGTERM. */
async function main() {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'maskline-worker' });
  installTemporalLogging(logger);

  const database = await connectDatabase(config.mongodbUri);
  await ensureIndexes(database);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await createBookingWorker({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.temporalTaskQueue,
    database,
    workflowBundlePath: process.env.MASKLINE_WORKFLOW_BUNDLE,
  });

  logger.info({ taskQueue: config.temporalTaskQueue, namespace: config.temporalNamespace }, 'worker running');
  // The SDK shuts the worker down on SIGINT/SIGTERM: it stops polling and lets running tasks finish.
  await worker.run();
  await connection.close();
  await database.close();
  logger.info('worker stopped');
  logger.flush();
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    createLogger({ name: 'maskline-worker' }).fatal({ err: error }, 'worker failed');
  }
  process.exitCode = 1;
});
