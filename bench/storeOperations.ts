import { MongoClient, type Collection, type Document } from 'mongodb';
import { connectDatabase, ensureIndexes } from '../src/store/database';
import { elapsedMs, round, summarize } from './measure';
import { check, fmt, int, type Check } from './report';
import type { BenchStack } from './stack';

export interface StoreOperationsSettings {
  /** Claim documents in the collection, one measured round per size. */
  sizes: number[];
  /** Sequential operations per kind; fewer when `sampleSeconds` run out first (a scan can take seconds). */
  samples: number;
  sampleSeconds: number;
  /** Operations in flight at once for the throughput figures, each on a connection of its own. */
  clients: number;
  loadSeconds: number;
}

export const STORE_OPERATIONS_DEFAULTS: StoreOperationsSettings = {
  sizes: [4_000, 40_000],
  samples: 200,
  sampleSeconds: 10,
  clients: 64,
  loadSeconds: 5,
};

/** Every party holds this many claims, so `find({party})` answers this many documents. */
const CLAIMS_PER_PARTY = 10;
const OWNERS = 50;

interface Claim extends Document {
  _id: string;
  party: string;
  virtualNumber: string;
  bookingId: string;
  owner: string;
}

const claim = (i: number, parties: number): Claim => {
  const party = `p${i % parties}`;
  return { _id: `${party}|v${i}`, party, virtualNumber: `v${i}`, bookingId: `b${i}`, owner: `r${i % OWNERS}` };
};

/**
 * Benchmark 5: the store alone, for the queries a MongoDB data layer makes — lookups by _id, by _id and a second
 * field (the conditional atomic operations), by an indexed field, by $in; inserts and conditional deletes — one at
 * a time (latency) and from many clients at once (throughput), at two collection sizes: a figure that grows with
 * the collection is a scan. The claims collection gets the indexes of ensureIndexes(), no more.
 */
export async function storeOperationsBenchmark(
  stack: BenchStack,
  settings: StoreOperationsSettings,
  say: (line: string) => void,
) {
  const databaseName = 'maskline_bench_store';
  const uri = stack.mongodbUri(databaseName);
  const client = await MongoClient.connect(uri, { maxPoolSize: settings.clients, minPoolSize: settings.clients });
  const rounds: Record<string, unknown>[] = [];
  const perSize = new Map<number, Record<string, number>>();
  try {
    for (const size of settings.sizes) {
      const database = await connectDatabase(uri);
      await database.db.dropDatabase();
      await ensureIndexes(database);
      await database.client.close();
      const claims = client.db(databaseName).collection<Claim>('claims');
      const parties = Math.max(1, Math.floor(size / CLAIMS_PER_PARTY));
      const seedStarted = process.hrtime.bigint();
      for (let from = 0; from < size; from += 1_000) {
        await claims.insertMany(
          Array.from({ length: Math.min(1_000, size - from) }, (_, k) => claim(from + k, parties)),
          { ordered: false },
        );
      }
      say(`  store: seeded ${int(size)} claims in ${fmt(elapsedMs(seedStarted) / 1000)} s`);
      const figures = await measureRound(claims, size, parties, settings, say);
      perSize.set(size, figures.p50);
      rounds.push({ size, ...figures, plans: await plans(client, databaseName, parties) });
    }
  } finally {
    await client.db(databaseName).dropDatabase();
    await client.close();
  }

  const checks: Check[] = [];
  const [small, large] = [settings.sizes[0]!, settings.sizes.at(-1)!];
  for (const [name, figures] of perSize) {
    for (const [operation, ms] of Object.entries(figures)) {
      checks.push(check('store', `${operation} p50 at ${int(name)} claims`, `${fmt(ms, 2)} ms`, '', null));
    }
  }
  const rounded = rounds as { size: number; throughput: Record<string, number> }[];
  for (const { size, throughput } of rounded) {
    for (const [operation, perSecond] of Object.entries(throughput)) {
      checks.push(
        check('store', `${operation}, ${settings.clients} clients, at ${int(size)}`, `${int(perSecond)}/s`, '', null),
      );
    }
  }
  // An index lookup costs about the same at ten times the documents; a scan costs ten times as much.
  if (small !== large) {
    for (const operation of ['findOne {_id}', 'findOne {_id, bookingId}', 'find {party}', 'deleteOne {_id, owner}']) {
      const growth = perSize.get(large)![operation]! / perSize.get(small)![operation]!;
      checks.push(
        check(
          'store',
          `${operation} p50, ${int(large)} vs ${int(small)} claims`,
          `${fmt(growth, 2)}x`,
          '< 2x',
          growth < 2,
        ),
      );
    }
  }
  return { settings, store: stack.store, rounds, checks };
}

async function measureRound(
  claims: Collection<Claim>,
  size: number,
  parties: number,
  settings: StoreOperationsSettings,
  say: (line: string) => void,
) {
  let next = size;
  const existing = (i: number) => claim((i * 7_919) % size, parties);
  const operations: Record<string, (i: number) => Promise<unknown>> = {
    'findOne {_id}': (i) => claims.findOne({ _id: existing(i)._id }),
    'findOne {_id, bookingId}': (i) => {
      const c = existing(i);
      return claims.findOne({ _id: c._id, bookingId: c.bookingId });
    },
    'find {party}': (i) => claims.find({ party: existing(i).party }).toArray(),
    'find {party: {$in: [a, b]}}': (i) =>
      claims.find({ party: { $in: [existing(i).party, existing(i + 1).party] } }).toArray(),
    insertOne: () => claims.insertOne(claim(next++, parties)),
    // The claims just inserted, in turn, each deleted only while its owner still holds it.
    'deleteOne {_id, owner}': (i) => {
      const c = claim(size + i, parties);
      return claims.deleteOne({ _id: c._id, owner: c.owner });
    },
  };
  const p50: Record<string, number> = {};
  const latency: Record<string, unknown> = {};
  for (const [name, operation] of Object.entries(operations)) {
    const samples: number[] = [];
    const deadline = Date.now() + settings.sampleSeconds * 1000;
    for (let i = 0; i < settings.samples && (samples.length < 5 || Date.now() < deadline); i++) {
      const started = process.hrtime.bigint();
      await operation(i);
      samples.push(elapsedMs(started));
    }
    const s = summarize(samples);
    p50[name] = round(s.p50, 3);
    latency[name] = { count: s.count, meanMs: round(s.mean, 3), p50Ms: round(s.p50, 3), p95Ms: round(s.p95, 3) };
    say(`  store @${int(size)}: ${name} p50 ${fmt(s.p50, 2)} ms, p95 ${fmt(s.p95, 2)} ms (${s.count} samples)`);
  }

  const loads: Record<string, (i: number) => Promise<unknown>> = {
    'findOne {_id}': operations['findOne {_id}']!,
    'findOne {_id, owner}': (i) => {
      const c = existing(i);
      return claims.findOne({ _id: c._id, owner: c.owner });
    },
    'find {party} (10 back)': operations['find {party}']!,
    'insertOne + deleteOne {_id, owner}': async () => {
      const c = claim(next++, parties);
      await claims.insertOne(c);
      await claims.deleteOne({ _id: c._id, owner: c.owner });
    },
  };
  const throughput: Record<string, number> = {};
  for (const [name, operation] of Object.entries(loads)) {
    let done = 0;
    const started = process.hrtime.bigint();
    const deadline = Date.now() + settings.loadSeconds * 1000;
    await Promise.all(
      Array.from({ length: settings.clients }, async (_, client) => {
        for (let i = client; Date.now() < deadline; i += settings.clients) {
          await operation(i);
          done++;
        }
      }),
    );
    throughput[name] = round(done / (elapsedMs(started) / 1000), 0);
    say(`  store @${int(size)}: ${name}, ${settings.clients} clients: ${int(throughput[name])}/s`);
  }
  return { p50, latency, throughput };
}

/** What the store says it does for each filter (FerretDB's explain: pushdown and PostgreSQL's or SQLite's plan). */
async function plans(client: MongoClient, databaseName: string, parties: number) {
  const c = claim(1, parties);
  const filters: Record<string, Document> = {
    '{_id}': { _id: c._id },
    '{_id, owner}': { _id: c._id, owner: c.owner },
    '{party}': { party: c.party },
    '{party: {$in}}': { party: { $in: [c.party, 'p2'] } },
  };
  const result: Record<string, unknown> = {};
  for (const [name, filter] of Object.entries(filters)) {
    try {
      const explained = await client.db(databaseName).command({ explain: { find: 'claims', filter } });
      result[name] = { filterPushdown: explained.filterPushdown, plan: planSummary(explained.queryPlanner) };
    } catch (error) {
      result[name] = { error: error instanceof Error ? error.message : String(error) };
    }
  }
  return result;
}

/** PostgreSQL's plan as its node types and index names ("Bitmap Heap Scan > Bitmap Index Scan claims_..._gin"). */
function planSummary(queryPlanner: unknown): unknown {
  const root = (queryPlanner as { Plan?: Document } | undefined)?.Plan;
  if (!root) return queryPlanner;
  const parts: string[] = [];
  const walk = (node: Document) => {
    parts.push([node['Node Type'], node['Index Name']].filter(Boolean).join(' '));
    for (const child of (node.Plans as Document[] | undefined) ?? []) walk(child);
  };
  walk(root);
  return parts.join(' > ');
}
