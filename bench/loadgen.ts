/**
 * The load generator: autocannon in a process of its own, never the process under test. Started by the
 * benchmarks with one JSON argument (a LoadSpec); prints progress on stderr and one `RESULT {...}` line on stdout.
 *
 * Bodies either rotate through a file of pre-generated JSON bodies (call actions) or are made fresh for each
 * request (bookings, which must each be new). Every response is timed here (autocannon's `response` event, with
 * sub-millisecond resolution) and sorted by what it answered. With `ratePerSecond`, the load is an even open-loop
 * pace of single requests instead (for call actions: latency when the server is not saturated).
 */
import fs from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import {
  SESSION_ID,
  type BookingLanes,
  type BookingRecord,
  type LanesResult,
  type LoadResult,
  type LoadSpec,
} from './loadSpec';
import { summarize } from './measure';

type Instance = autocannon.Instance & {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void): Instance;
};

function bookingBody(prefix: string, i: number): string {
  // Riders +6590…, couriers +6594… (valid Singapore mobiles); every booking has parties of its own.
  const digits = (offset: number) => `+659${String(offset + (i % 3_999_999)).padStart(7, '0')}`;
  return JSON.stringify({
    bookingId: `${prefix}-${i}`,
    parties: [
      { role: 'rider', number: digits(0) },
      { role: 'courier', number: digits(4_000_000) },
    ],
    expiresInSeconds: 900,
    gracePeriodSeconds: 0,
  });
}

async function runLoad(spec: LoadSpec, seconds: number, maxRequests: number, measured: boolean): Promise<LoadResult> {
  const bodies: string[] = spec.bodiesFile ? (JSON.parse(fs.readFileSync(spec.bodiesFile, 'utf8')) as string[]) : [];
  let sent = 0;
  const latencies: number[] = [];
  const answerKinds: Record<string, number> = {};
  const count = (kind: string) => (answerKinds[kind] = (answerKinds[kind] ?? 0) + 1);
  const prefix = `${spec.bookingPrefix ?? 'b'}-${measured ? 'm' : 'w'}`;

  let finish: (error: unknown, result: autocannon.Result) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (error, result) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result);
  });
  const instance = autocannon(
    {
      url: spec.url,
      connections: spec.connections,
      duration: seconds,
      maxOverallRequests: maxRequests,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: spec.path,
          headers: { 'content-type': 'application/json', ...spec.headers },
          setupRequest: (request) => {
            const i = sent++;
            const body = spec.bookingPrefix
              ? bookingBody(prefix, i)
              : bodies[i % bodies.length]!.replace(SESSION_ID, `${prefix}-${process.pid}-${i}`);
            return { ...request, body };
          },
          onResponse: (status, body) => {
            if (spec.answers === 'callflow') {
              count(
                body.includes('"makeCall"')
                  ? 'connected'
                  : body.includes('"say"')
                    ? 'notice'
                    : body.includes('"sayAndCapture"')
                      ? 'prompt'
                      : 'other',
              );
            } else {
              count(status === 201 && /"virtualNumber":"\+\d+"/.test(body) ? 'withNumber' : `status${status}`);
            }
          },
        },
      ],
    },
    (error, result) => finish(error, result),
  ) as Instance;
  const startedAt = Date.now();
  const perSecond: number[] = [];
  instance.on('response', (_client, _status, _bytes, ms) => {
    latencies.push(ms);
    const second = Math.floor((Date.now() - startedAt) / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + 1;
  });
  const result = await done;

  const statusCounts: Record<string, number> = {};
  for (const [status, stat] of Object.entries(result.statusCodeStats ?? {})) statusCounts[status] = stat.count ?? 0;
  const answered = Object.values(statusCounts).reduce((a, b) => a + b, 0);
  return {
    requests: answered,
    durationSeconds: result.duration,
    requestsPerSecond: answered / result.duration,
    latencyMs: summarize(latencies),
    perSecond: Array.from(perSecond, (n) => n ?? 0),
    statusCounts,
    non200: answered - (statusCounts['200'] ?? 0) - (spec.answers === 'booking' ? (statusCounts['201'] ?? 0) : 0),
    errors: result.errors,
    timeouts: result.timeouts,
    answerKinds,
  };
}

/**
 * An open-loop load at an even pace: one request every 1/rate seconds, each on its own, whatever the answers
 * (autocannon's rate limit sends each second's quota at once, a burst that measures queueing, not latency).
 */
async function runPaced(spec: LoadSpec, rate: number): Promise<LoadResult> {
  const bodies: string[] = spec.bodiesFile ? (JSON.parse(fs.readFileSync(spec.bodiesFile, 'utf8')) as string[]) : [];
  const total = Math.min(spec.maxRequests, Math.round(rate * spec.durationSeconds));
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  const answerKinds: Record<string, number> = {};
  const perSecond: number[] = [];
  let errors = 0;
  let timeouts = 0;
  const lagMs: number[] = [];
  const fromDueMs: number[] = [];
  const startedAt = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = startedAt + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lagMs.push(Math.max(0, performance.now() - due));
    const body = spec.bookingPrefix
      ? bookingBody(`${spec.bookingPrefix}-p`, i)
      : bodies[i % bodies.length]!.replace(SESSION_ID, `p-${process.pid}-${i}`);
    const sent = performance.now();
    inFlight.push(
      fetch(`${spec.url}${spec.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...spec.headers },
        body,
        signal: AbortSignal.timeout(10_000),
      })
        .then(async (response) => {
          const text = await response.text();
          latencies.push(performance.now() - sent);
          fromDueMs.push(performance.now() - due);
          statusCounts[response.status] = (statusCounts[response.status] ?? 0) + 1;
          const kind = text.includes('"makeCall"')
            ? 'connected'
            : text.includes('"say"')
              ? 'notice'
              : text.includes('"sayAndCapture"')
                ? 'prompt'
                : 'other';
          answerKinds[kind] = (answerKinds[kind] ?? 0) + 1;
          const second = Math.floor((performance.now() - startedAt) / 1000);
          perSecond[second] = (perSecond[second] ?? 0) + 1;
        })
        .catch((error: unknown) => {
          if (error instanceof Error && error.name === 'TimeoutError') timeouts += 1;
          errors += 1;
        }),
    );
  }
  await Promise.all(inFlight);
  const durationSeconds = (performance.now() - startedAt) / 1000;
  const answered = latencies.length;
  return {
    requests: answered,
    durationSeconds,
    requestsPerSecond: answered / durationSeconds,
    latencyMs: summarize(latencies),
    perSecond: Array.from(perSecond, (n) => n ?? 0),
    statusCounts,
    non200: answered - (statusCounts['200'] ?? 0),
    errors,
    timeouts,
    answerKinds,
    pacing: {
      scheduled: total,
      sentLate: lagMs.filter((lag) => lag >= SENT_LATE_MS).length,
      sentLateAfterMs: SENT_LATE_MS,
      lagMs: summarize(lagMs),
      latencyFromDueMs: summarize(fromDueMs),
    },
  };
}

/** A paced request sent this much after its due time missed the rate: the generator could not keep the pace. */
const SENT_LATE_MS = 5;

/**
 * Booking platform clients: each of `connections` lanes creates one booking at a time, from the list or fresh, and
 * retries a booking whose answer is in `retryStatuses` (or none) with the same bookingId, `retryDelayMs` apart, up
 * to `tries` in all. A list is created whole (or until `durationSeconds`, its time bound); fresh bookings are
 * handed out for `durationSeconds`, then the bookings under way get `drainSeconds` to finish.
 */
async function runLanes(spec: LoadSpec, lanes: BookingLanes, seconds: number, prefix: string) {
  const list = lanes.bookingsFile
    ? (JSON.parse(fs.readFileSync(lanes.bookingsFile, 'utf8')) as { bookingId: string }[]).map((b) => JSON.stringify(b))
    : null;
  const records: BookingRecord[] = [];
  const requestMs: number[] = [];
  const refusalMs: number[] = [];
  const statusCounts: Record<string, number> = {};
  const startedAt = performance.now();
  const now = () => performance.now() - startedAt;
  const windowMs = seconds * 1000;
  let next = 0;
  let underWay = 0;
  const take = (): string | null => {
    if (now() >= windowMs) return null;
    if (list) return next < list.length ? list[next++]! : null;
    return bookingBody(prefix, next++);
  };
  // node:http with a keep-alive agent, not fetch: on these 2 cores the generator shares the CPU with the service,
  // and fetch cost about 1 ms of CPU a request, a fifth of a core at 256 clients' refusals and retries.
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const target = new URL(`${spec.url}${spec.path}`);
  const post = (body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...spec.headers,
          },
          timeout: lanes.requestTimeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', reject);
      request.end(body);
    });
  const send = async (body: string) => {
    const at = now();
    try {
      const { status, text } = await post(body);
      const answer = parseAnswer(text);
      return {
        status,
        code: answer.error?.code,
        virtualNumber: answer.virtualNumber,
        ms: now() - at,
        at,
      };
    } catch {
      return { status: 0, code: 'no_answer', virtualNumber: undefined, ms: now() - at, at };
    }
  };
  const lane = async () => {
    for (let body = take(); body !== null; body = take()) {
      underWay += 1;
      const request = JSON.parse(body) as { bookingId: string; parties: { role: string; number: string }[] };
      const tries: BookingRecord['tries'] = [];
      const first = now();
      let last: Awaited<ReturnType<typeof send>>;
      for (;;) {
        last = await send(body);
        tries.push({
          status: last.status,
          ...(last.code ? { code: last.code } : {}),
          ms: round3(last.ms),
          at: round3(last.at),
        });
        requestMs.push(last.ms);
        statusCounts[last.status] = (statusCounts[last.status] ?? 0) + 1;
        if (last.status === 503 || last.status === 429) refusalMs.push(last.ms);
        if (!lanes.retryStatuses.includes(last.status) || tries.length >= lanes.tries) break;
        await new Promise((resolve) => setTimeout(resolve, lanes.retryDelayMs));
      }
      const finishedAt = now();
      records.push({
        bookingId: request.bookingId,
        parties: request.parties,
        tries,
        status: last.status,
        ...(last.code ? { code: last.code } : {}),
        ...(last.virtualNumber ? { virtualNumber: last.virtualNumber } : {}),
        totalMs: round3(finishedAt - first),
        finishedAt: round3(finishedAt),
      });
      underWay -= 1;
    }
  };
  const running = Promise.all(Array.from({ length: spec.connections }, lane));
  // No booking is handed out past the window; the ones under way get a bounded time to finish, and are left after.
  await Promise.race([running, sleepMs(windowMs + lanes.drainSeconds * 1000)]);
  const durationSeconds = now() / 1000;
  const withNumber = (r: BookingRecord) => (r.status === 201 || r.status === 200) && r.virtualNumber !== undefined;
  const created = records.filter(withNumber);
  const windowSeconds = list ? durationSeconds : seconds;
  const createdInWindow = list ? created.length : created.filter((r) => r.finishedAt <= windowMs).length;
  const perSecond: number[] = [];
  for (const record of created) {
    const second = Math.floor(record.finishedAt / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + 1;
  }
  const finalCounts: Record<string, number> = {};
  for (const record of records) {
    const key = `${record.status}${record.code && record.status !== 201 && record.status !== 200 ? ` ${record.code}` : ''}`;
    finalCounts[key] = (finalCounts[key] ?? 0) + 1;
  }
  fs.writeFileSync(lanes.recordsFile, JSON.stringify(records));
  const result: LanesResult = {
    bookings: records.length,
    created: created.length,
    createdInWindow,
    windowSeconds,
    durationSeconds,
    requests: requestMs.length,
    retries: requestMs.length - records.length,
    statusCounts,
    finalCounts,
    perRequestMs: summarize(requestMs),
    perBookingMs: summarize(records.map((r) => r.totalMs)),
    refusalMs: summarize(refusalMs),
    perSecond: Array.from(perSecond, (n) => n ?? 0),
    stoppedAtTimeBound: list !== null && next < list.length,
    unfinished: underWay,
    eventLoopDelayMs: {
      p99: round3(loopDelay.percentile(99) / 1e6),
      max: round3(loopDelay.max / 1e6),
    },
  };
  loopDelay.disable();
  agent.destroy();
  return result;
}

function parseAnswer(text: string): { virtualNumber?: string; error?: { code?: string } } {
  try {
    const body = JSON.parse(text) as { virtualNumber?: unknown; error?: { code?: string } };
    return {
      ...(typeof body.virtualNumber === 'string' ? { virtualNumber: body.virtualNumber } : {}),
      ...(body.error ? { error: body.error } : {}),
    };
  } catch {
    return {};
  }
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  if (spec.lanes) {
    const lanes = spec.lanes;
    if (spec.warmupSeconds > 0) {
      const warm = await runLanes(
        spec,
        { ...lanes, bookingsFile: undefined, recordsFile: `${lanes.recordsFile}.warm-up` },
        spec.warmupSeconds,
        `${spec.bookingPrefix ?? 'b'}-w`,
      );
      process.stderr.write(`warm-up: ${warm.bookings} bookings, ${warm.created} created\n`);
    }
    process.stdout.write('MEASURING\n');
    const result = await runLanes(spec, lanes, spec.durationSeconds, `${spec.bookingPrefix ?? 'b'}-m`);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    // Fetches still under way (past a drain) must not keep the process alive.
    process.exit(0);
  }
  if (spec.ratePerSecond) {
    process.stdout.write('MEASURING\n');
    const result = await runPaced(spec, spec.ratePerSecond);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  if (spec.warmupSeconds > 0) {
    const warm = await runLoad(spec, spec.warmupSeconds, spec.maxRequests, false);
    process.stderr.write(`warm-up: ${warm.requests} requests, ${Math.round(warm.requestsPerSecond)}/s\n`);
  }
  process.stdout.write('MEASURING\n');
  const result = await runLoad(spec, spec.durationSeconds, spec.maxRequests, true);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`load generator failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
