import type { Database } from '../src/store/database';

/** The diagnostic workflow's side effect: a write to the store read back, which proves the worker's wiring. */
export function createDiagnosticActivities(deps: { database: Database }) {
  return {
    async storeRoundTrip(token: string): Promise<string> {
      const probes = deps.database.db.collection<{ _id: string; writtenAt: Date }>('wiringProbes');
      await probes.updateOne({ _id: token }, { $set: { writtenAt: new Date() } }, { upsert: true });
      const read = await probes.findOne({ _id: token });
      return read ? `stored ${read._id}` : 'missing';
    },
  };
}

export type DiagnosticActivities = ReturnType<typeof createDiagnosticActivities>;
