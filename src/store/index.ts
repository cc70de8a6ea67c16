export * from './database';
export { NumberPool, NumberExists, type PoolNumber } from './numberPool';
export { MongoAllocationStore, type Route } from './allocationStore';
export { CallRecords } from './callRecords';
