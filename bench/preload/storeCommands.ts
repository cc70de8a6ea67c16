/**
 * Preloaded into a process under test (`node --require <this, compiled>`) when BENCH_STORE_COMMANDS names a file:
 * every MongoClient the process connects gets the driver's command monitoring, and the commands it sends are
 * counted by command and collection ("insert claims", "find leases", "getMore claims"), with the time each took to
 * come back. The counts are written to that file every 100 ms and at exit, so the bench reads the round trips of a
 * measured window from outside, without a switch in src/. (The monitoring costs a few µs per command.)
 */
import fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import type { MongoClient as Client } from 'mongodb';

export interface StoreCommandCount {
  count: number;
  failed: number;
  /** Summed time from sending to the answer, ms. */
  totalMs: number;
}

export type StoreCommandCounts = Record<string, StoreCommandCount>;

const file = process.env.BENCH_STORE_COMMANDS;
// Worker threads (the Temporal worker's workflow threads) inherit `--require`: only the main thread counts and writes.
if (file && isMainThread) {
  // Loaded here, not imported above, so that the workflow threads, which load this file too, do not load the driver.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MongoClient } = require('mongodb') as { MongoClient: typeof Client };
  const counts: StoreCommandCounts = {};
  const pending = new Map<number, string>();
  const monitored = new WeakSet<Client>();
  const connect = MongoClient.prototype.connect;
  MongoClient.prototype.connect = function (this: Client) {
    if (!monitored.has(this)) {
      monitored.add(this);
      // Read when the topology is made, on the first connect: the connections it opens report their commands.
      (this as unknown as { monitorCommands: boolean }).monitorCommands = true;
      this.on('commandStarted', (event) => {
        const target: unknown = event.command[event.commandName];
        const collection = typeof target === 'string' ? target : (event.command.collection as unknown);
        const key = typeof collection === 'string' ? `${event.commandName} ${collection}` : event.commandName;
        pending.set(event.requestId, key);
        (counts[key] ??= { count: 0, failed: 0, totalMs: 0 }).count += 1;
      });
      const finished = (failed: boolean) => (event: { requestId: number; duration: number }) => {
        const key = pending.get(event.requestId);
        if (key === undefined) return;
        pending.delete(event.requestId);
        const entry = counts[key]!;
        entry.totalMs += event.duration;
        if (failed) entry.failed += 1;
      };
      this.on('commandSucceeded', finished(false));
      this.on('commandFailed', finished(true));
    }
    return connect.call(this);
  } as typeof connect;

  const write = () => {
    try {
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(counts));
      fs.renameSync(`${file}.tmp`, file);
    } catch {
      // The bench reads whatever was written last.
    }
  };
  setInterval(write, 100).unref();
  process.on('exit', write);
}

/** What a process has sent so far, as its preload last wrote it (a few tries: it may not have written yet). */
export async function readStoreCommands(countsFile: string): Promise<StoreCommandCounts> {
  let lastError: unknown;
  for (let tries = 0; tries < 10; tries++) {
    try {
      return JSON.parse(fs.readFileSync(countsFile, 'utf8')) as StoreCommandCounts;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`the store commands of ${countsFile} could not be read: ${String(lastError)}`);
}

/** The commands sent between two readings. */
export function storeCommandsBetween(before: StoreCommandCounts, after: StoreCommandCounts): StoreCommandCounts {
  const between: StoreCommandCounts = {};
  for (const [key, entry] of Object.entries(after)) {
    const earlier = before[key] ?? { count: 0, failed: 0, totalMs: 0 };
    const count = entry.count - earlier.count;
    if (count > 0)
      between[key] = { count, failed: entry.failed - earlier.failed, totalMs: entry.totalMs - earlier.totalMs };
  }
  return between;
}
