export * from './database';
export { NumberPool, NumberExists, type PoolNumber } from './numberPool';
export { LeaseStore, type Route } from './leases';
export { CallRecords } from './callRecords';
