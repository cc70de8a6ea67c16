import type { Db } from 'mongodb';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Answer } from './stack';

/**
 * Bookings raced through the HTTP API, and the checks of what must hold afterwards: shared by the fast tests and
 * `npm run chaos`. `send` is how a request reaches the service; a status of 0 means no answer (server down).
 */
export type Send = (method: string, route: string, body?: unknown) => Promise<Answer>;

export interface BookingRequestBody {
  bookingId: string;
  parties: [{ role: string; number: string }, { role: string; number: string }];
  expiresInSeconds?: number;
  gracePeriodSeconds?: number;
}

export interface BookingAttempt {
  request: BookingRequestBody;
  /** The final answer: 201/200 with a number, or 409 no_number_available. */
  status: number;
  code?: string;
  virtualNumber?: string;
  /** Requests sent until the answer was final (503s and lost connections are retried, as the platform would). */
  tries: number;
}

/** `count` people with distinct Singapore mobile numbers. */
export function people(count: number, prefix = '9100'): string[] {
  return Array.from({ length: count }, (_, i) => `+65${prefix}${String(i).padStart(4, '0')}`);
}

/** `count` virtual numbers. */
export function virtualNumbers(count: number, prefix = '6000'): string[] {
  return Array.from({ length: count }, (_, i) => `+65${prefix}${String(i).padStart(4, '0')}`);
}

/** A small deterministic generator, so that a failing run can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Booking requests pairing two different people drawn at random. */
export function raceRequests(
  count: number,
  persons: readonly string[],
  options: { seed: number; idPrefix: string; expiresInSeconds?: number; gracePeriodSeconds?: number },
): BookingRequestBody[] {
  const random = seeded(options.seed);
  return Array.from({ length: count }, (_, i) => {
    const first = Math.floor(random() * persons.length);
    const second = (first + 1 + Math.floor(random() * (persons.length - 1))) % persons.length;
    return {
      bookingId: `${options.idPrefix}-${i}`,
      parties: [
        { role: 'customer', number: persons[first]! },
        { role: 'courier', number: persons[second]! },
      ],
      ...(options.expiresInSeconds !== undefined ? { expiresInSeconds: options.expiresInSeconds } : {}),
      ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}),
    };
  });
}

/** Sends the request until the answer is final; retries only what the API says to retry (503) or a lost answer. */
export async function sendUntilFinal(
  send: Send,
  method: string,
  route: string,
  body: unknown,
  timeoutMs = 120_000,
): Promise<{ answer: Answer; tries: number }> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    const answer = await send(method, route, body);
    if ((answer.status !== 0 && answer.status !== 503) || Date.now() > deadline) return { answer, tries };
    await sleep(200 + Math.random() * 300);
  }
}

/** How far a createBookings() has come: bookings asked for, and bookings answered for good. */
export interface CreationProgress {
  sent: number;
  answered: number;
}

/** Creates the bookings, `concurrency` requests in flight at a time. */
export async function createBookings(
  send: Send,
  requests: readonly BookingRequestBody[],
  concurrency: number,
  progress: CreationProgress = { sent: 0, answered: 0 },
): Promise<BookingAttempt[]> {
  const attempts: BookingAttempt[] = [];
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      progress.sent += 1;
      const { answer, tries } = await sendUntilFinal(send, 'POST', '/v1/bookings', request);
      progress.answered += 1;
      attempts.push({
        request,
        status: answer.status,
        code: answer.body?.error?.code,
        virtualNumber: answer.body?.virtualNumber ?? undefined,
        tries,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, lane));
  return attempts;
}

export const allocated = (attempt: BookingAttempt) => attempt.status === 201 || attempt.status === 200;

/** Problems found; empty when every rule held. */
export type Violations = string[];

/** Every answer is a number or a refusal for lack of one; anything else is a violation. */
export function checkAnswers(attempts: readonly BookingAttempt[]): Violations {
  return attempts
    .filter((a) => !(allocated(a) && a.virtualNumber) && !(a.status === 409 && a.code === 'no_number_available'))
    .map((a) => `${a.request.bookingId}: answered ${a.status} ${a.code ?? ''}`);
}

/** Pairs (person, VN) held by more than one live booking, in a list of (bookingId, VN, people). */
function doubleHoldings(holdings: { bookingId: string; virtualNumber: string; people: string[] }[]): Violations {
  const holders = new Map<string, string[]>();
  for (const { bookingId, virtualNumber, people: persons } of holdings) {
    for (const person of persons) {
      const key = `${person}|${virtualNumber}`;
      holders.set(key, [...(holders.get(key) ?? []), bookingId]);
    }
  }
  return [...holders].filter(([, ids]) => ids.length > 1).map(([key, ids]) => `${key} held by ${ids.join(', ')}`);
}

/**
 * While no booking has ended: nobody holds one VN in two live bookings — by the answers, by the store (pairings and
 * claims) and by the workflows' own records (GET /v1/bookings/:id); and every refusal was a true exhaustion (the two
 * people hold every number between them, which only grows while nothing ends).
 */
export async function checkLiveBookings(
  send: Send,
  db: Db,
  attempts: readonly BookingAttempt[],
  pool: readonly string[],
): Promise<{ violations: Violations; refusals: number; allocatedCount: number }> {
  const violations: Violations = [];
  const live = attempts.filter(allocated);
  const peopleOf = (a: BookingAttempt) => a.request.parties.map((p) => p.number);
  violations.push(
    ...doubleHoldings(
      live.map((a) => ({ bookingId: a.request.bookingId, virtualNumber: a.virtualNumber!, people: peopleOf(a) })),
    ).map((v) => `answers: ${v}`),
  );

  const leases = await db
    .collection<{ _id: string; virtualNumber: string; parties: { number: string }[]; status: string }>('leases')
    // Released bookings (the refused ones among them) leave a marker without parties: it holds nothing.
    .find({ status: { $ne: 'released' } })
    .toArray();
  violations.push(
    ...doubleHoldings(
      leases.map((l) => ({ bookingId: l._id, virtualNumber: l.virtualNumber, people: l.parties.map((p) => p.number) })),
    ).map((v) => `store leases: ${v}`),
  );
  const byBooking = new Map(live.map((a) => [a.request.bookingId, a]));
  const claims = await db
    .collection<{ _id: string; bookingId: string; virtualNumber: string }>('claims')
    .find({})
    .toArray();
  for (const claim of claims) {
    const owner = byBooking.get(claim.bookingId);
    if (owner?.virtualNumber !== claim.virtualNumber)
      violations.push(`store claim ${claim._id} of ${claim.bookingId} matches no answer`);
  }
  if (claims.length !== 2 * live.length)
    violations.push(`store has ${claims.length} claims for ${live.length} live bookings`);
  if (leases.length !== live.length)
    violations.push(`store has ${leases.length} pairings for ${live.length} live bookings`);

  const records: { bookingId: string; virtualNumber: string; people: string[] }[] = [];
  await inBatches(live, 20, async (attempt) => {
    const { answer } = await sendUntilFinal(send, 'GET', `/v1/bookings/${attempt.request.bookingId}`, undefined);
    const booking = answer.body ?? {};
    if (answer.status !== 200 || booking.status !== 'active' || booking.virtualNumber !== attempt.virtualNumber) {
      violations.push(
        `workflow ${attempt.request.bookingId}: ${answer.status} ${booking.status} ${booking.virtualNumber} (answered ${attempt.virtualNumber})`,
      );
    }
    records.push({
      bookingId: attempt.request.bookingId,
      virtualNumber: booking.virtualNumber,
      people: (booking.parties ?? []).map((p: { number: string }) => p.number),
    });
  });
  violations.push(...doubleHoldings(records).map((v) => `workflow records: ${v}`));

  const heldBy = (person: string) => live.filter((a) => peopleOf(a).includes(person)).map((a) => a.virtualNumber!);
  const refused = attempts.filter((a) => a.status === 409);
  for (const attempt of refused) {
    const busy = new Set(peopleOf(attempt).flatMap(heldBy));
    if (busy.size !== pool.length) {
      violations.push(
        `${attempt.request.bookingId} refused while ${pool.length - busy.size} number(s) were free for both`,
      );
    }
  }
  return { violations, refusals: refused.length, allocatedCount: live.length };
}

/** Cancels the bookings (retrying 503s); returns the answers that were neither 202 nor 409 (already ended). */
export async function cancelBookings(send: Send, bookingIds: readonly string[]): Promise<Violations> {
  const violations: Violations = [];
  await inBatches(bookingIds, 20, async (id) => {
    const { answer } = await sendUntilFinal(send, 'POST', `/v1/bookings/${id}/cancel`, undefined);
    if (answer.status !== 202 && answer.status !== 409)
      violations.push(`cancel ${id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  });
  return violations;
}

/** Once every booking has ended: no claim, no pairing, and GET /v1/numbers counts no live booking anywhere. */
export async function heldNumbers(
  send: Send,
  db: Db,
): Promise<{ claims: number; leases: number; busyNumbers: number }> {
  const [claims, leases, numbers] = await Promise.all([
    db.collection('claims').countDocuments({}),
    // A released booking's lease stays as a marker (no numbers in it) until the reconciler removes it.
    db.collection('leases').countDocuments({ status: { $ne: 'released' } }),
    sendUntilFinal(send, 'GET', '/v1/numbers', undefined),
  ]);
  const listed: { liveBookings: number }[] = numbers.answer.body?.numbers ?? [];
  return { claims, leases, busyNumbers: listed.filter((n) => n.liveBookings !== 0).length };
}

/** Waits until every booking's workflow says it has ended with its number given back; returns those that did not. */
export async function waitUntilEnded(send: Send, bookingIds: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...bookingIds];
  while (pending.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    await inBatches(pending, 20, async (bookingId) => {
      const answer = await send('GET', `/v1/bookings/${bookingId}`);
      const ended = answer.status === 200 && answer.body.endedAt !== null && answer.body.status !== 'completing';
      if (!ended) still.push(bookingId);
    });
    pending = still;
    if (pending.length > 0) await sleep(500);
  }
  return pending;
}

export async function inBatches<T>(items: readonly T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await each(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, lane));
}
