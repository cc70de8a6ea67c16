export { bookingWorkflow } from './booking';
export { bookingEventsWorkflow } from './bookingEvents';
export { storeRoundTripWorkflow } from './diagnostics';
export { reconcilePairingsWorkflow } from './reconciliation';
export { numberSyncWorkflow } from './numberSync';
export { callRecordRetentionWorkflow } from './retention';
