import {
  MongoClient,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type Collection,
  type Db,
} from 'mongodb';
import type { E164 } from '../domain/phoneNumbers';
import type { Holder } from '../domain/allocation';
import type { Parties, Party, Reach } from '../domain/booking';
import type { AfterEnd } from '../domain/outOfSession';
import type { EndedPairingDocument } from './endedPairings';

/** A virtual number of the pool. Its load is not stored: it is counted from the pairings (leases). */
export interface NumberDocument {
  _id: E164;
  countryCode: string | null;
  referenceId: string | null;
  /** active: allocatable; disabled (8x8 says it is not usable) and draining: keep serving, get no new bookings. */
  status: NumberStatus;
  /**
   * `pin`: one of the PIN set, kept for PIN-fallback bookings (many live bookings share it, each with its PIN);
   * ordinary allocation never gives it out. Absent: an ordinary number.
   */
  use?: NumberUse;
  createdAt: Date;
  updatedAt: Date;
}

export type NumberUse = 'pin';

export type NumberStatus = 'active' | 'disabled' | 'draining';

/**
 * One person's claim on one VN for one booking run. The `_id` is `<person>|<VN>`, so the unique primary key is
 * what makes "a VN is never held by the same person in two live bookings" true under any concurrency, with no
 * transaction (FerretDB has none). It is also the call-routing index: (caller, VN) → the other party. A claim
 * whose pair (`<otherParty>|<VN>` of the same run) exists is held for good; one alone is an allocation under way.
 * A booking of three or more parties claims them in order, and the last claim is every claim's witness (the last
 * one's is the first): the last one there means all were made. Its claims name their callers' targets apart.
 */
export interface ClaimDocument {
  _id: string;
  party: E164;
  role: string;
  virtualNumber: E164;
  bookingId: string;
  /** The booking run holding it (its workflow chain's first run id); every change is conditional on it. */
  run: string;
  runStartedAt: Date;
  /** The other party of a two-party booking; of a larger one, the claim whose presence proves them all. */
  otherParty: E164;
  otherRole: string;
  /**
   * Whom this party may call, in menu order, when that is not simply `otherParty`: a booking of three or more
   * parties, or one with a `reach`. Absent on every two-party claim as before.
   */
  targets?: Party[];
  /**
   * Known to be one of a complete pair. A claim left false by an attempt that stopped may be complete all the
   * same: the pair's existence is the fact, this only saves a read.
   */
  settled: boolean;
  claimedAt: Date;
  /** The booking records its calls: the call router asks 8x8 to record them. Absent: not recorded. */
  record?: true;
}

/**
 * The pairing of a booking run. Released when the booking gives its number back: the record stays, without the
 * parties' numbers, so that a late allocation attempt of that run finds it released and takes nothing; the
 * reconciler deletes it once no attempt can be running any more.
 */
export interface LeaseDocument {
  _id: string;
  run: string;
  runStartedAt: Date;
  virtualNumber: E164;
  /** Absent once released. */
  parties?: Parties;
  /** Who may reach whom, when the booking said (its late callers are routed by it); absent: everyone. */
  reach?: Reach;
  status: LeaseStatus;
  createdAt: Date;
  expiresAt: Date;
  releasedAt?: Date;
  /** What the booking keeps for its late callers once it ends (absent: nothing; see endedPairings.ts). */
  afterEnd?: AfterEnd;
}

export type LeaseStatus = 'active' | 'completing' | 'released';

/** The statuses of a lease that holds its number. */
export const HOLDING_STATUSES: readonly LeaseStatus[] = ['active', 'completing'];

// How claims and leases name the booking run that holds them: shared by allocation, routing and reconciliation.

/** A claim's key: one person's hold on one VN. */
export function claimId(party: E164, virtualNumber: E164): string {
  return `${party}|${virtualNumber}`;
}

/**
 * The filter that matches a claim only while the given run holds it. Documents written before holders carried
 * their run have none; such a holder (run '') is matched by its bookingId alone.
 */
export function heldBy(holder: Holder) {
  return { bookingId: holder.bookingId, ...runOf(holder) };
}

/** The filter that matches a lease (whose `_id` is its bookingId) only while the given run holds it. */
export function runOf(holder: Holder) {
  return holder.run === '' ? { run: { $exists: false } } : { run: holder.run };
}

export function isHeldBy(doc: { run?: string }, holder: Holder): boolean {
  return (doc.run ?? '') === holder.run;
}

/** The run a claim (or a lease, given its `_id` as bookingId) names. */
export function holderOf(doc: { bookingId: string; run?: string; runStartedAt?: Date }): Holder {
  return { bookingId: doc.bookingId, run: doc.run ?? '', runStartedAt: doc.runStartedAt?.getTime() ?? 0 };
}

/** A call session 8x8 told us about, linked to its booking when the call was answered. */
export interface CallSessionDocument {
  _id: string;
  bookingId: string | null;
  virtualNumber: E164;
  callerRole: string | null;
  /** Masked (`+65****4567`): call records never keep a party number in clear. */
  callerMasked: string;
  startedAt: Date;
  /** Whom the call was put through to, when a booking of several parties let the caller choose. */
  calleeRole?: string;
}

/** A call-status, session-summary or call-recording webhook, stored before anything else so that none is ever lost. */
export interface CallEventDocument {
  _id: string;
  kind: 'status' | 'summary' | 'recording';
  sessionId: string;
  bookingId: string | null;
  receivedAt: Date;
  /** Whether the booking's workflow has been told; undelivered events are retried. */
  delivered: boolean;
  detail: Record<string, unknown>;
}

/**
 * A pair of people's last virtual number, for `numberSelection: "prefer-sticky"`. The `_id` is a hash of their two
 * numbers (src/store/pairHistory.ts), never the numbers themselves.
 */
export interface PairDocument {
  _id: string;
  virtualNumber: E164;
  /** The booking that wrote it last: erasing that booking erases it. */
  bookingId: string;
  updatedAt: Date;
}

/**
 * A PIN-fallback booking's hold on a number of the PIN set. The `_id` is `<VN>#<PIN>`: the unique primary key is
 * what makes a PIN unique among the live bookings on its number, with no transaction (only an insert under a
 * unique key is atomic on FerretDB). It is also the routing index of a PIN call: (VN, PIN) → the booking's parties.
 */
export interface PinDocument {
  _id: string;
  virtualNumber: E164;
  pin: string;
  bookingId: string;
  /** The booking run holding it, as claims name theirs; every change is conditional on it. */
  run: string;
  runStartedAt: Date;
  parties: Party[];
  claimedAt: Date;
  record?: true;
}

/**
 * One wrong PIN entered by a caller: insert-only, counted by an indexed equality on `bucket` (the caller's hash and
 * the window it fell in), so the guessing bound holds on FerretDB, whose updates are read-modify-write.
 */
export interface PinAttemptDocument {
  _id: string;
  bucket: string;
  at: Date;
}

export interface Collections {
  numbers: Collection<NumberDocument>;
  claims: Collection<ClaimDocument>;
  leases: Collection<LeaseDocument>;
  callSessions: Collection<CallSessionDocument>;
  callEvents: Collection<CallEventDocument>;
  endedPairings: Collection<EndedPairingDocument>;
  pairs: Collection<PairDocument>;
  pins: Collection<PinDocument>;
  pinAttempts: Collection<PinAttemptDocument>;
}

export interface Database {
  client: MongoClient;
  db: Db;
  collections: Collections;
  close(): Promise<void>;
}

/**
 * Opens the database. With `lazy`, nothing is awaited: the driver connects on first use and reconnects by
 * itself, so the HTTP server starts, and keeps answering calls with the notice, while the store is down.
 */
export async function connectDatabase(
  uri: string,
  options: { serverSelectionTimeoutMS?: number; lazy?: boolean; monitorCommands?: boolean } = {},
): Promise<Database> {
  const client = new MongoClient(uri, {
    monitorCommands: options.monitorCommands ?? false,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5_000,
    // Fail fast rather than queue: a call-routing lookup that cannot run now is answered with the notice.
    maxPoolSize: 50,
    appName: 'maskline',
  });
  if (options.lazy) void connectUntilReachable(client);
  else await client.connect();
  const db = client.db();
  const collections: Collections = {
    numbers: db.collection('numbers'),
    claims: db.collection('claims'),
    leases: db.collection('leases'),
    callSessions: db.collection('callSessions'),
    callEvents: db.collection('callEvents'),
    endedPairings: db.collection('endedPairings'),
    pairs: db.collection('pairs'),
    pins: db.collection('pins'),
    pinAttempts: db.collection('pinAttempts'),
  };
  return { client, db, collections, close: () => client.close() };
}

/**
 * Indexes every query of ours needs. Plain and compound indexes only: FerretDB 1.x refuses partial and TTL
 * indexes, so retention is a scheduled job rather than a TTL index.
 */
export async function ensureIndexes({ collections }: Database): Promise<void> {
  await Promise.all([
    collections.numbers.createIndex({ status: 1 }),
    collections.numbers.createIndex({ use: 1 }),
    collections.claims.createIndex({ party: 1 }),
    collections.claims.createIndex({ bookingId: 1 }),
    collections.leases.createIndex({ expiresAt: 1 }),
    collections.leases.createIndex({ virtualNumber: 1 }),
    collections.leases.createIndex({ status: 1 }),
    collections.callSessions.createIndex({ bookingId: 1 }),
    // Retention deletes by age (CallRecords.deleteOlderThan).
    collections.callSessions.createIndex({ startedAt: 1 }),
    collections.callEvents.createIndex({ receivedAt: 1 }),
    collections.callEvents.createIndex({ bookingId: 1 }),
    collections.callEvents.createIndex({ delivered: 1, receivedAt: 1 }),
    // Erasure deletes a booking's; retention deletes those whose window closed.
    collections.endedPairings.createIndex({ bookingId: 1 }),
    collections.endedPairings.createIndex({ closesAt: 1 }),
    // Erasure deletes a booking's pair record; retention deletes by age.
    collections.pairs.createIndex({ bookingId: 1 }),
    collections.pairs.createIndex({ updatedAt: 1 }),
    // A run's PIN holdings are given back by run (release, reconciliation); a caller's wrong PINs are counted.
    collections.pins.createIndex({ bookingId: 1 }),
    collections.pinAttempts.createIndex({ bucket: 1 }),
    collections.pinAttempts.createIndex({ at: 1 }),
  ]);
}

/**
 * Once connected, the driver rides out outages by itself; but a client whose first connection failed stays
 * closed ("Topology is closed") until connect() is called again, so keep calling it until it succeeds.
 */
async function connectUntilReachable(client: MongoClient, retryMs = 2_000): Promise<void> {
  for (;;) {
    try {
      await client.connect();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
    }
  }
}

/** Creates the indexes as soon as the store can be reached, retrying in the background until then. */
export function ensureIndexesWhenReachable(
  database: Database,
  onError: (error: unknown) => void,
  retryMs = 5_000,
): Promise<void> {
  return ensureIndexes(database).catch(async (error: unknown) => {
    onError(error);
    await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
    return ensureIndexesWhenReachable(database, onError, retryMs);
  });
}

export async function pingDatabase(database: Database, timeoutMs = 1_000): Promise<boolean> {
  try {
    await database.db.command({ ping: 1 }, { timeoutMS: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** The store could not be reached (as opposed to refusing a write): worth a 503 and a retry, not a 500. */
export function isStoreUnavailable(error: unknown): boolean {
  return (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError
  );
}
