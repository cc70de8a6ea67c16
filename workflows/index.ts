export { bookingWorkflow } from './booking';
export { storeRoundTripWorkflow } from './diagnostics';
export { reconcilePairingsWorkflow } from './maintenance';
export { numberSyncWorkflow } from './numberSync';
export { callRecordRetentionWorkflow } from './retention';
