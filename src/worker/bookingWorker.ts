import { NativeConnection, Worker } from '@temporalio/worker';
import { createBookingActivities } from '../../activities/booking';
import { createDiagnosticActivities } from '../../activities/diagnostics';
import { createEventActivities } from '../../activities/events';
import { createNumberSyncActivities } from '../../activities/numberSync';
import { createReconciliationActivities } from '../../activities/reconciliation';
import { createRetentionActivities } from '../../activities/retention';
import type { EventsConfig } from '../events/eventTargets';
import { EightByEightApiClient, type EightByEightAccount } from '../eightbyeight/apiClient';
import { EventSender } from '../events/eventSender';
import { CallRecords } from '../store/callRecords';
import type { Database } from '../store/database';
import { PinHoldings } from '../store/pinHoldings';
import { Holdings } from '../store/holdings';
import { MongoAllocationStore } from '../store/allocationStore';
import { EndedPairings } from '../store/endedPairings';
import { NumberPool } from '../store/numberPool';
import { NumberSync } from '../numbers/numberSync';
import { createDataConverter, type EncryptionKey } from '../temporal/payloadEncryption';
import { temporalPlugins } from '../tracing/tracing';

export interface BookingWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  database: Database;
  /** The 8x8 subaccount the number sync reads; without one, the sync activity fails saying so. */
  eightByEight?: EightByEightAccount | null;
  /** Payloads are encrypted with these (newest first); see payloadEncryption.ts. */
  encryptionKeys: readonly EncryptionKey[];
  /** Where booking events go and how they are signed; without it no event is sent ("not configured"). */
  events?: Pick<EventsConfig, 'url' | 'secrets' | 'allowPlainHttp' | 'platformHosts'>;
  /**
   * A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled at start. A prebuilt
   * bundle must be built with `failureConverterPath` of createDataConverter(), or failure messages go unencrypted.
   */
  workflowBundlePath?: string;
}

/** The worker of every Maskline workflow: each activity factory, over one store, registered together. */
export async function createBookingWorker(options: BookingWorkerOptions): Promise<Worker> {
  const allocations = new MongoAllocationStore(options.database.collections, { pairKeys: options.encryptionKeys });
  const { collections } = options.database;
  const endedPairings = new EndedPairings(collections.endedPairings, options.encryptionKeys, collections.leases);
  const pins = new PinHoldings(collections, undefined, options.encryptionKeys);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: {
      ...createBookingActivities({ allocations, endedPairings, pins }),
      ...createReconciliationActivities({ allocations, holdings: new Holdings(options.database.collections) }),
      ...createNumberSyncActivities({ numberSync: numberSyncOf(options) }),
      ...createRetentionActivities({
        callRecords: new CallRecords(collections),
        endedPairings,
        pairs: allocations.pairs,
        pins,
      }),
      ...createDiagnosticActivities({ database: options.database }),
      ...createEventActivities({
        sender: new EventSender(options.events ?? { url: null, secrets: [], allowPlainHttp: false }),
      }),
    },
    dataConverter: createDataConverter(options.encryptionKeys),
    plugins: temporalPlugins(),
    // Allocations run as local activities: at most this many at once, within the store's connection pool (50),
    // so a burst waits in Temporal's queue, not on the store.
    maxConcurrentLocalActivityExecutions: 32,
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
