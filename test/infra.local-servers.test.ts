import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { MongoClient, MongoServerError } from 'mongodb';
import { tools } from '../scripts/local/paths';

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const KEYWORD = 2;

describe('the servers that npm test starts', () => {
  test('Temporal has the BookingStatus and VirtualNumber search attributes registered as Keyword', async () => {
    const address = process.env.TEMPORAL_ADDRESS;
    assert.ok(address, 'TEMPORAL_ADDRESS is set');
    const connection = await Connection.connect({ address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      });
      assert.equal(customAttributes.BookingStatus, KEYWORD);
      assert.equal(customAttributes.VirtualNumber, KEYWORD);
    } finally {
      await connection.close();
    }
  });

  describe('the store at MONGODB_URI', () => {
    let client: MongoClient;
    before(async () => {
      assert.ok(process.env.MONGODB_URI, 'MONGODB_URI is set');
      client = await MongoClient.connect(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 5_000 });
    });
    after(async () => {
      await client.db('maskline_test_infra').dropDatabase();
      await client.close();
    });

    test('enforces a unique index: a duplicate insert fails with code 11000', async () => {
      const leases = client.db('maskline_test_infra').collection('leases');
      await leases.createIndex({ virtualNumber: 1, partyNumber: 1 }, { unique: true });
      await leases.insertOne({ virtualNumber: '+15550000001', partyNumber: '+15550000002' });
      await assert.rejects(
        leases.insertOne({ virtualNumber: '+15550000001', partyNumber: '+15550000002' }),
        (err: unknown) => err instanceof MongoServerError && err.code === 11000,
      );
      await leases.insertOne({ virtualNumber: '+15550000001', partyNumber: '+15550000003' });
      assert.equal(await leases.countDocuments({ virtualNumber: '+15550000001' }), 2);
    });
  });

  test(
    'the FerretDB launcher refuses to listen on a non-loopback address',
    { skip: !fs.existsSync(tools.ferretdbLauncher) },
    async () => {
      await assert.rejects(
        promisify(execFile)(tools.ferretdbLauncher, ['-listen', '0.0.0.0:0', '-data-dir', '/nonexistent']),
        (err: unknown) => {
          const { code, stderr } = err as { code: number; stderr: string };
          return code === 1 && stderr.includes('must be loopback');
        },
      );
    },
  );

  test('the time-skipping test server and the Temporal CLI are installed where the env says', () => {
    for (const name of ['MASKLINE_TEMPORAL_TEST_SERVER', 'MASKLINE_TEMPORAL_CLI']) {
      const file = process.env[name];
      assert.ok(file, `${name} is set`);
      fs.accessSync(file, fs.constants.X_OK);
    }
  });
});
