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
import autocannon from 'autocannon';
import { SESSION_ID, type LoadResult, type LoadSpec } from './loadSpec';
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
              count(body.includes('"makeCall"') ? 'connected' : body.includes('"say"') ? 'notice' : 'other');
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
  const startedAt = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = startedAt + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
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
          statusCounts[response.status] = (statusCounts[response.status] ?? 0) + 1;
          const kind = text.includes('"makeCall"') ? 'connected' : text.includes('"say"') ? 'notice' : 'other';
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
  };
}

async function main() {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
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
