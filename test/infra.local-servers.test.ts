import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { MongoClient, MongoServerError, type Document } from 'mongodb';
import pg from 'pg';
import { tools } from '../scripts/local/paths';
import { startPostgres } from '../scripts/local/postgres';
import { Supervisor } from '../scripts/local/processes';

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const KEYWORD = 2;
/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST */
const KEYWORD_LIST = 7;

describe('the servers that npm test starts', () => {
  test('Temporal has BookingStatus and VirtualNumber registered as Keyword, BookingPartyRoles as KeywordList', async () => {
    const address = process.env.TEMPORAL_ADDRESS;
    assert.ok(address, 'TEMPORAL_ADDRESS is set');
    const connection = await Connection.connect({ address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      });
      assert.equal(customAttributes.BookingStatus, KEYWORD);
      assert.equal(customAttributes.VirtualNumber, KEYWORD);
      assert.equal(customAttributes.BookingPartyRoles, KEYWORD_LIST);
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

    // Only our FerretDB on PostgreSQL (which npm test starts unless MONGODB_URI is given) explains this way.
    const ours = { skip: !process.env.MASKLINE_TEST_POSTGRES_URL };

    test('equality filters on _id and on indexed fields are served by an index, not a scan', ours, async () => {
      const claims = client.db('maskline_test_infra').collection<Document>('claims');
      await claims.createIndex({ party: 1 });
      await claims.createIndex({ delivered: 1, receivedAt: 1 });
      await claims.insertMany(
        Array.from({ length: 2_000 }, (_, i) => ({
          _id: `p${i % 200}|v${i}` as unknown as Document['_id'],
          party: `p${i % 200}`,
          bookingId: `b${i}`,
          owner: `r${i % 7}`,
          delivered: i % 2 === 0,
          receivedAt: i,
        })),
      );
      for (const filter of [
        { _id: 'p1|v201' },
        { _id: 'p1|v201', owner: 'r5' },
        { _id: 'p1|v201', bookingId: 'b201', owner: 'r5' },
        { party: 'p3' },
        { delivered: false },
        { receivedAt: 7 },
      ]) {
        const { scans, indexes } = await plan(client, 'claims', filter);
        assert.deepEqual(scans, [], `${JSON.stringify(filter)} scans nothing`);
        assert.ok(indexes.length > 0, `${JSON.stringify(filter)} uses an index`);
      }
      // Not indexed, so a scan: the twins follow the application's createIndex calls, no more.
      assert.notDeepEqual((await plan(client, 'claims', { bookingId: 'b201' })).scans, []);
      assert.equal(await claims.countDocuments({ party: 'p3' }), 10);
    });

    test('a dropped index takes its twin along, and a field another index still has keeps it', ours, async () => {
      const events = client.db('maskline_test_infra').collection<Document>('events');
      await events.createIndex({ receivedAt: 1 }, { name: 'byTime' });
      await events.createIndex({ delivered: 1, receivedAt: 1 }, { name: 'pending' });
      await events.insertMany(Array.from({ length: 2_000 }, (_, i) => ({ delivered: i % 2 === 0, receivedAt: i })));
      await events.dropIndex('byTime');
      assert.deepEqual((await plan(client, 'events', { receivedAt: 7 })).scans, []);
      await events.dropIndex('pending');
      assert.notDeepEqual((await plan(client, 'events', { receivedAt: 7 })).scans, []);
      assert.notDeepEqual((await plan(client, 'events', { delivered: true })).scans, []);
    });
  });

  test(
    'the FerretDB launcher refuses to listen on a non-loopback address',
    { skip: !fs.existsSync(tools.ferretdbLauncher) },
    async () => {
      await assert.rejects(
        promisify(execFile)(tools.ferretdbLauncher, [
          '-listen',
          '0.0.0.0:0',
          '-postgresql-url',
          'postgres://postgres@127.0.0.1:1/none',
        ]),
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

  describe('the local PostgreSQL (scripts/local/postgres.ts)', () => {
    let supervisor: Supervisor;
    let dataDir: string;
    before(() => {
      supervisor = new Supervisor();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-test-postgres-own-'));
    });
    after(async () => {
      await supervisor.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('keeps its databases and their data across a restart on the same data directory', async () => {
      const first = await startPostgres(supervisor, { port: 0, dataDir, durable: true });
      const url = await first.createDatabase('kept');
      await sql(url, 'CREATE TABLE numbers (n text); INSERT INTO numbers VALUES ($$+6560000001$$)');
      await first.process.stop();
      const second = await startPostgres(supervisor, { port: 0, dataDir, durable: true });
      const rows = await sql(await second.createDatabase('kept'), 'SELECT n FROM numbers');
      assert.deepEqual(rows, [{ n: '+6560000001' }]);
      assert.deepEqual(await sql(second.url('postgres'), 'SHOW plan_cache_mode'), [
        { plan_cache_mode: 'force_custom_plan' },
      ]);
      await second.process.stop();
    });

    test('a new data directory in new folders leaves those folders open to pass through', async () => {
      // As root the server runs as nobody, who must pass them; the data directory itself stays private.
      const nested = path.join(dataDir, 'new', 'postgres');
      const server = await startPostgres(supervisor, { port: 0, dataDir: nested, durable: false });
      await server.process.stop();
      assert.notEqual(fs.statSync(path.dirname(nested)).mode & 0o001, 0, 'others may pass the folder above');
      assert.equal(fs.statSync(nested).mode & 0o077, 0, "the data directory is its owner's alone");
    });

    test('refuses a port that is in use, naming it', async () => {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const { port } = holder.address() as net.AddressInfo;
      try {
        await assert.rejects(
          startPostgres(supervisor, { port, dataDir, durable: false }),
          new RegExp(`PostgreSQL port 127\\.0\\.0\\.1:${port} is already in use`),
        );
      } finally {
        holder.close();
      }
    });
  });
});

/** What PostgreSQL does for a find with this filter, as FerretDB's explain tells: its scans and its indexes. */
async function plan(client: MongoClient, collection: string, filter: Document) {
  const explained = await client.db('maskline_test_infra').command({ explain: { find: collection, filter } });
  assert.equal(explained.filterPushdown, true, `${JSON.stringify(filter)} reaches PostgreSQL`);
  const scans: string[] = [];
  const indexes: string[] = [];
  const walk = (node: Document) => {
    if (node['Node Type'] === 'Seq Scan') scans.push(String(node['Relation Name']));
    if (typeof node['Index Name'] === 'string') indexes.push(node['Index Name']);
    for (const child of (node.Plans as Document[] | undefined) ?? []) walk(child);
  };
  walk((explained.queryPlanner as { Plan: Document }).Plan);
  return { scans, indexes };
}

async function sql(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const results = (await client.query(text)) as pg.QueryResult | pg.QueryResult[];
    return (Array.isArray(results) ? results.at(-1)! : results).rows;
  } finally {
    await client.end();
  }
}
