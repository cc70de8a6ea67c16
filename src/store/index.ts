export * from './database';
export { NumberPool, NumberExists, type PoolNumber } from './numberPool';
export { MongoAllocationStore } from './allocationStore';
export { CallRecords } from './callRecords';
