export { bookingWorkflow } from './booking';
export { storeRoundTripWorkflow } from './diagnostics';
