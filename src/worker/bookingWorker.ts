import { NativeConnection, Runtime, Worker, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { createBookingActivities } from '../../activities/booking';
import { createNumberSyncActivities } from '../../activities/numberSync';
import { createRetentionActivities } from '../../activities/retention';
import { EightByEightApiClient, type EightByEightAccount } from '../eightbyeight/apiClient';
import type { Logger } from '../logging/logger';
import { CallRecords } from '../store/callRecords';
import type { Database } from '../store/database';
import { LeaseStore } from '../store/leases';
import { NumberPool } from '../store/numberPool';
import { NumberSync } from '../numbers/numberSync';
import { createDataConverter, type EncryptionKey } from '../temporal/payloadEncryption';

export interface BookingWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  database: Database;
  /** The 8x8 subaccount the number sync reads; without one, the sync activity fails saying so. */
  eightByEight?: EightByEightAccount | null;
  /** Payloads are encrypted with these (newest first); see payloadEncryption.ts. */
  encryptionKeys: readonly EncryptionKey[];
  /**
   * A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled at start. A prebuilt
   * bundle must be built with `failureConverterPath` of createDataConverter(), or failure messages go unencrypted.
   */
  workflowBundlePath?: string;
}

export async function createBookingWorker(options: BookingWorkerOptions): Promise<Worker> {
  const activities = createBookingActivities({
    leases: new LeaseStore(options.database.collections),
    database: options.database,
  });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: {
      ...activities,
      ...createNumberSyncActivities({ numberSync: numberSyncOf(options) }),
      ...createRetentionActivities({ callRecords: new CallRecords(options.database.collections) }),
    },
    dataConverter: createDataConverter(options.encryptionKeys),
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: require.resolve('../../workflows') }),
  });
}

function numberSyncOf(options: BookingWorkerOptions): NumberSync | null {
  if (!options.eightByEight) return null;
  const client = new EightByEightApiClient(options.eightByEight);
  return new NumberSync(new NumberPool(options.database.collections), { client });
}

const CORE_LOG_LEVEL: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN' };

/**
 * Routes the SDK's own logs through our logger, and so through redaction: the worker's and the workflow sandbox's,
 * and the native core's (which would otherwise go straight to stderr), at the logger's level. The Runtime is one
 * per process: call this once, before any NativeConnection or Worker is created.
 */
export function installTemporalLogging(logger: Logger): void {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const target = logger.child({ component: 'temporal' });
    const fields = meta ?? {};
    if (level === 'ERROR') target.error(fields, message);
    else if (level === 'WARN') target.warn(fields, message);
    else if (level === 'INFO') target.info(fields, message);
    else if (level === 'DEBUG') target.debug(fields, message);
    else target.trace(fields, message);
  };
  Runtime.install({
    logger: {
      log,
      trace: (m, meta) => log('TRACE', m, meta),
      debug: (m, meta) => log('DEBUG', m, meta),
      info: (m, meta) => log('INFO', m, meta),
      warn: (m, meta) => log('WARN', m, meta),
      error: (m, meta) => log('ERROR', m, meta),
    },
    telemetryOptions: {
      logging: { forward: {}, filter: { core: CORE_LOG_LEVEL[logger.level] ?? 'ERROR', other: 'ERROR' } },
    },
  });
}
