import { proxyActivities } from '@temporalio/workflow';
import type { DiagnosticActivities } from '../activities/diagnostics';

const { storeRoundTrip } = proxyActivities<DiagnosticActivities>({ startToCloseTimeout: '10 seconds' });

/** Proves the wiring: the worker runs an activity that writes to the store and reads it back. */
export async function storeRoundTripWorkflow(token: string): Promise<string> {
  return storeRoundTrip(token);
}
