// First: tracing, when asked for, patches `http` before anything requires it.
import '../tracing/register';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config';
import { exitOnFailure } from '../logging/exit';
import { createLogger } from '../logging/logger';
import { connectDatabase, ensureIndexes } from '../store/database';
import { connectTemporalClient, connectionOptionsOf } from '../temporal/connection';
import {
  ensureCallRecordRetention,
  ensureNumberSync,
  ensurePairingReconciliation,
  untilAccepted,
} from '../temporal/schedules';
import { installTemporalLogging } from '../temporal/logging';
import { createBookingWorker } from './bookingWorker';
import { startWorkerMetricsServer } from './metricsServer';

/** A loopback port free now, for the SDK's metrics exporter, which cannot say which port it took when given 0. */
async function freeLoopbackPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** The Temporal worker process: runs booking workflows and their activities until SIGINT/SIGTERM. */
async function main() {
  const config = loadConfig(process.env, 'worker');
  const logger = createLogger({ level: config.logLevel, name: 'maskline-worker' });
  const sdkMetricsPort = config.workerMetricsPort === null ? null : await freeLoopbackPort();
  installTemporalLogging(
    logger,
    sdkMetricsPort === null ? {} : { prometheusBindAddress: `127.0.0.1:${sdkMetricsPort}` },
  );
  if (config.developmentEncryptionKey) {
    logger.warn(
      'DEVELOPMENT KEY: MASKLINE_ENCRYPTION_KEYS is unset; Temporal payloads are encrypted with a public development key',
    );
  }

  if (config.events.developmentSecret) {
    logger.warn(
      'DEVELOPMENT EVENTS SECRET: MASKLINE_EVENTS_SECRETS is unset; booking events are signed with a public one',
    );
  }

  const database = await connectDatabase(config.mongodbUri);
  await ensureIndexes(database);
  const connection = await NativeConnection.connect(connectionOptionsOf(config));
  const worker = await createBookingWorker({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.temporalTaskQueue,
    database,
    eightByEight: config.eightByEight,
    encryptionKeys: config.encryptionKeys,
    events: config.events,
    workflowBundlePath: process.env.MASKLINE_WORKFLOW_BUNDLE,
  });

  const client = await connectTemporalClient(config);
  const metricsServer =
    config.workerMetricsPort === null
      ? null
      : await startWorkerMetricsServer({
          port: config.workerMetricsPort,
          running: () => worker.getState() === 'RUNNING',
          sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
        });

  // Bookings are served while the schedules are set up; a set-up that fails for good stops the worker.
  const running = worker.run();
  running.catch(() => undefined); // its failure is thrown where it is awaited, below
  const setUpSchedules = async () => {
    await ensurePairingReconciliation(client, {
      taskQueue: config.temporalTaskQueue,
      every: config.reconcileEvery,
      logger,
    });
    await ensureNumberSync(client, {
      taskQueue: config.temporalTaskQueue,
      every: config.numberSyncEvery,
      enabled: config.eightByEight !== null,
      logger,
    });
    await ensureCallRecordRetention(client, {
      taskQueue: config.temporalTaskQueue,
      retentionDays: config.callRecordRetentionDays,
      logger,
    });
  };
  // Running means serving bookings: a Temporal too busy to answer the schedules' set-up at once delays only that.
  logger.info(
    {
      taskQueue: config.temporalTaskQueue,
      namespace: config.temporalNamespace,
      ...(metricsServer ? { metricsPort: metricsServer.port } : {}),
    },
    'worker running',
  );
  try {
    await untilAccepted('setting up the schedules', setUpSchedules, logger);
    logger.info('schedules set up');
  } catch (error) {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await metricsServer?.close();
    throw error;
  }
  // The SDK shuts the worker down on SIGINT/SIGTERM: it stops polling and lets running tasks finish. Meanwhile
  // the metrics port answers /healthz with 503.
  await running;
  await metricsServer?.close();
  await client.connection.close();
  await connection.close();
  await database.close();
  logger.info('worker stopped');
  logger.flush();
}

main().catch(exitOnFailure('maskline-worker', 'worker failed', [ConfigError]));
