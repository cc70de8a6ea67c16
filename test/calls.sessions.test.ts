import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CallRecords, SessionBatcher } from '../src/store/callRecords';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import { testDatabaseUri, uniqueId } from '../harness/stack';

describe('call sessions recorded off the answer path, in batches', () => {
  let database: Database;
  let records: CallRecords;
  before(async () => {
    database = await connectDatabase(testDatabaseUri(uniqueId('sessions').replace(/-/g, '_')));
    await ensureIndexes(database);
    records = new CallRecords(database.collections);
  });
  after(async () => {
    await database.db.dropDatabase();
    await database.close();
  });

  const session = (sessionId: string, callerRole: string) => ({
    sessionId,
    bookingId: 'ride-1',
    virtualNumber: '+6560000001',
    callerRole,
    caller: '+6591234567',
    startedAt: new Date(),
  });

  it('writes every session of a batch, keeps the first record of a repeated session, and masks the caller', async () => {
    const errors: unknown[] = [];
    const batcher = new SessionBatcher(records, (error) => errors.push(error), { maxBatch: 3, maxDelayMs: 20 });
    await records.recordSession(session('s-0', 'rider'));
    for (const [id, role] of [
      ['s-0', 'driver'],
      ['s-1', 'rider'],
      ['s-2', 'rider'],
      ['s-2', 'driver'],
      ['s-3', 'rider'],
    ]) {
      await batcher.recordSession(session(id!, role!));
    }
    await batcher.flush();
    assert.deepEqual(errors, []);
    const stored = await database.collections.callSessions.find({}).sort({ _id: 1 }).toArray();
    assert.deepEqual(
      stored.map((doc) => [doc._id, doc.callerRole]),
      [
        ['s-0', 'rider'],
        ['s-1', 'rider'],
        ['s-2', 'rider'],
        ['s-3', 'rider'],
      ],
    );
    assert.ok(stored.every((doc) => doc.callerMasked === '+65****4567'));
  });
});
