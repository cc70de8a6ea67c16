import { Client, Connection } from '@temporalio/client';
import type { Database } from '../src/store/database';
import type { CreationService } from './creationRun';
import type { BookingRecord } from './loadSpec';

/**
 * What must hold after a contended creation run, checked from outside as the platform and an operator see it:
 * nobody holds one virtual number in two live bookings (by the answers, by the store's pairings, by the workflows'
 * own records), every refusal was a true exhaustion, and after every booking is cancelled nothing stays held.
 */

const withNumber = (r: BookingRecord) => (r.status === 201 || r.status === 200) && r.virtualNumber !== undefined;
const refused = (r: BookingRecord) => r.status === 409 && r.code === 'no_number_available';

/** (person, VN) pairs held by more than one booking, from a list of holdings. */
function crossings(holdings: { bookingId: string; virtualNumber: string; people: string[] }[]): string[] {
  const holders = new Map<string, Set<string>>();
  for (const { bookingId, virtualNumber, people } of holdings) {
    for (const person of people) {
      const key = `${person}|${virtualNumber}`;
      const ids = holders.get(key) ?? new Set<string>();
      ids.add(bookingId);
      holders.set(key, ids);
    }
  }
  return [...holders].filter(([, ids]) => ids.size > 1).map(([key, ids]) => `${key} held by ${[...ids].join(', ')}`);
}

export interface LiveExamination {
  /** Bookings whose final answer carried a number / a refusal / neither (no final answer after the last try). */
  created: number;
  refused: number;
  withoutFinalAnswer: number;
  /** Of those without one, the workflows that went on to hold a number all the same. */
  heldAfterGivingUp: number;
  otherAnswers: Record<string, number>;
  crossings: { answers: string[]; store: string[]; workflows: string[] };
  /** Refusals while some number was free for both people (their holdings only grow while nothing ends). */
  falseRefusals: string[];
  /** Workflows whose record disagrees with the booking's answer (another number, or none). */
  disagreements: string[];
  /** Bookings still allocating when the wait for them ran out. */
  stillAllocating: number;
  liveInStore: number;
}

/** The booking's workflow record, by the API; null when it could not be read. */
async function bookingRecord(service: CreationService, bookingId: string) {
  for (let tries = 0; tries < 5; tries++) {
    const answer = await service.api('GET', `/v1/bookings/${encodeURIComponent(bookingId)}`);
    if (answer.status === 200 && answer.body) {
      const { status = '', virtualNumber = null, parties = [] } = answer.body;
      return { status, virtualNumber, parties };
    }
    if (answer.status === 404) return null;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

async function inBatches<T>(items: readonly T[], size: number, each: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await each(items[next++]!);
    }),
  );
}

/**
 * Examines the live bookings once the load has stopped and nothing has ended: first waits (up to `settleMs`) for
 * the bookings the platform gave up on to finish allocating, since their workflows may still take a number.
 */
export async function examineLiveBookings(
  service: CreationService,
  database: Database,
  records: readonly BookingRecord[],
  pool: readonly string[],
  options: { settleMs: number; seeded?: number },
): Promise<LiveExamination> {
  const peopleOf = (r: { parties: { number: string }[] }) => r.parties.map((p) => p.number);
  const givenUp = records.filter(
    (r) => !withNumber(r) && !refused(r) && (r.status === 0 || r.status === 503 || r.status === 429),
  );
  const otherAnswers: Record<string, number> = {};
  for (const r of records) {
    if (withNumber(r) || refused(r) || givenUp.includes(r)) continue;
    const key = `${r.status} ${r.code ?? ''}`.trim();
    otherAnswers[key] = (otherAnswers[key] ?? 0) + 1;
  }

  // The workflows of the bookings given up on: wait until none is allocating.
  const workflowOf = new Map<string, Awaited<ReturnType<typeof bookingRecord>>>();
  const deadline = Date.now() + options.settleMs;
  let pending = givenUp.map((r) => r.bookingId);
  while (pending.length > 0) {
    const still: string[] = [];
    await inBatches(pending, 16, async (bookingId) => {
      const record = await bookingRecord(service, bookingId);
      workflowOf.set(bookingId, record);
      if (record?.status === 'allocating') still.push(bookingId);
    });
    pending = still;
    if (pending.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }

  const answers = records.filter(withNumber).map((r) => ({
    bookingId: r.bookingId,
    virtualNumber: r.virtualNumber!,
    people: peopleOf(r),
  }));
  const leases = await database.collections.leases.find({ status: { $ne: 'released' } }).toArray();
  const storeHoldings = leases.map((lease) => ({
    bookingId: lease._id,
    virtualNumber: lease.virtualNumber,
    people: (lease.parties ?? []).map((p) => p.number),
  }));

  // Every booking that holds a number or might: by its answer, by the store, or given up on.
  const ours = new Set(records.map((r) => r.bookingId));
  const toRead = new Set([
    ...answers.map((a) => a.bookingId),
    ...storeHoldings.map((h) => h.bookingId).filter((id) => ours.has(id)),
  ]);
  for (const r of givenUp) toRead.add(r.bookingId);
  await inBatches(
    [...toRead].filter((id) => !workflowOf.has(id)),
    16,
    async (bookingId) => {
      workflowOf.set(bookingId, await bookingRecord(service, bookingId));
    },
  );
  const workflowHoldings: { bookingId: string; virtualNumber: string; people: string[] }[] = [];
  for (const [bookingId, record] of workflowOf) {
    if (record && (record.status === 'active' || record.status === 'completing') && record.virtualNumber) {
      workflowHoldings.push({ bookingId, virtualNumber: record.virtualNumber, people: peopleOf(record) });
    }
  }
  const disagreements: string[] = [];
  for (const answer of answers) {
    const record = workflowOf.get(answer.bookingId);
    if (record?.virtualNumber !== answer.virtualNumber || record.status !== 'active') {
      disagreements.push(
        `${answer.bookingId}: answered ${answer.virtualNumber}, workflow ${record ? `${record.status} ${record.virtualNumber}` : 'unreadable'}`,
      );
    }
  }

  // A refusal was true only if, between them, the two people held every number of the pool.
  const held = new Map<string, Set<string>>();
  for (const holding of [...answers, ...storeHoldings, ...workflowHoldings]) {
    for (const person of holding.people) {
      const numbers = held.get(person) ?? new Set<string>();
      numbers.add(holding.virtualNumber);
      held.set(person, numbers);
    }
  }
  const falseRefusals = records.filter(refused).flatMap((r) => {
    const busy = new Set(peopleOf(r).flatMap((person) => [...(held.get(person) ?? [])]));
    return busy.size < pool.length
      ? [`${r.bookingId} refused while ${pool.length - busy.size} number(s) were free for both`]
      : [];
  });

  return {
    created: answers.length,
    refused: records.filter(refused).length,
    withoutFinalAnswer: givenUp.length,
    heldAfterGivingUp: givenUp.filter((r) => workflowHoldings.some((h) => h.bookingId === r.bookingId)).length,
    otherAnswers,
    crossings: {
      answers: crossings(answers),
      store: crossings(storeHoldings),
      workflows: crossings(workflowHoldings),
    },
    falseRefusals,
    disagreements,
    stillAllocating: pending.length,
    liveInStore: leases.length - (options.seeded ?? 0),
  };
}

export interface HeldAtTheEnd {
  cancelAnswers: Record<string, number>;
  /** Seconds from the first cancel until nothing was held (or the wait ran out). */
  releasedWithinSeconds: number;
  claims: number;
  leases: number;
  /** Numbers GET /v1/numbers counts a live booking on. */
  busyNumbers: number;
  runningWorkflows: number;
}

/**
 * Cancels every booking of the run through the API (a refused or ended one answers 409), waits until the store
 * holds nothing of theirs and no workflow of the task queue runs, and counts what is still held. `keep`: holdings
 * seeded without workflows, which stay.
 */
/** The whole pool as the API lists it, page after page (a pool larger than a page, e.g. the merchant's 1,100). */
async function everyNumber(service: CreationService): Promise<{ liveBookings: number }[]> {
  const numbers: { liveBookings: number }[] = [];
  let cursor: string | null = null;
  do {
    const route: string = `/v1/numbers?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await service.api('GET', route);
    if (page.status !== 200) throw new Error(`GET ${route}: ${page.status}`);
    numbers.push(...(page.body?.numbers ?? []));
    cursor = page.body?.nextCursor ?? null;
  } while (cursor);
  return numbers;
}

export async function cancelAllAndCount(
  service: CreationService,
  database: Database,
  temporalAddress: string,
  bookingIds: readonly string[],
  options: { waitMs: number; keep?: { claims: number; leases: number; busyNumbers: number } },
): Promise<HeldAtTheEnd> {
  const cancelAnswers: Record<string, number> = {};
  const started = Date.now();
  await inBatches(bookingIds, 16, async (bookingId) => {
    let answer = await service.api('POST', `/v1/bookings/${encodeURIComponent(bookingId)}/cancel`);
    for (let tries = 1; (answer.status === 503 || answer.status === 0) && tries < 5; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      answer = await service.api('POST', `/v1/bookings/${encodeURIComponent(bookingId)}/cancel`);
    }
    const key = `${answer.status} ${answer.body?.error?.code ?? answer.body?.status ?? ''}`.trim();
    cancelAnswers[key] = (cancelAnswers[key] ?? 0) + 1;
  });
  const keep = options.keep ?? { claims: 0, leases: 0, busyNumbers: 0 };
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection });
  const count = async () => {
    const [claims, leases, listed, running] = await Promise.all([
      database.collections.claims.countDocuments({}),
      database.collections.leases.countDocuments({ status: { $ne: 'released' } }),
      everyNumber(service),
      temporal.workflow.count(
        `TaskQueue = '${service.taskQueue}' AND WorkflowType = 'bookingWorkflow' AND ExecutionStatus = 'Running'`,
      ),
    ]);
    return {
      claims: claims - keep.claims,
      leases: leases - keep.leases,
      busyNumbers: listed.filter((n) => n.liveBookings !== 0).length - keep.busyNumbers,
      runningWorkflows: running.count,
    };
  };
  try {
    let held = await count();
    while (
      (held.claims > 0 || held.leases > 0 || held.busyNumbers > 0 || held.runningWorkflows > 0) &&
      Date.now() - started < options.waitMs
    ) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      held = await count();
    }
    return { cancelAnswers, releasedWithinSeconds: Math.round((Date.now() - started) / 1000), ...held };
  } finally {
    await connection.close();
  }
}
