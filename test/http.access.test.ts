import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type Router from '@koa/router';
import { defaultPayloadConverter } from '@temporalio/common';
import fc from 'fast-check';
import type Koa from 'koa';
import { loadConfig } from '../src/config';
import { openApiDocument } from '../src/http/openapi';
import { createLogger } from '../src/logging/logger';
import { createHttpApplication } from '../src/server/httpApplication';
import { EncryptionCodec } from '../src/temporal/payloadEncryption';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { API_KEY, CapturedLogs, WEBHOOK_SECRET, api, startStack, uniqueId, type Stack } from '../harness/stack';

const API_ROUTES: [string, string][] = [
  ['GET', '/v1/numbers'],
  ['POST', '/v1/numbers'],
  ['DELETE', '/v1/numbers/%2B6560000001'],
  ['POST', '/v1/bookings'],
  ['GET', '/v1/bookings/ride-1'],
  ['POST', '/v1/bookings/ride-1/complete'],
  ['POST', '/v1/bookings/ride-1/cancel'],
  ['GET', '/v1/operations/summary'],
];
const WEBHOOK_ROUTES = [
  '/webhooks/8x8/call-action',
  '/webhooks/8x8/call-status',
  '/webhooks/8x8/session-summary',
  '/webhooks/8x8',
];

async function send(stack: Stack, method: string, path: string, authorization?: string, body: unknown = {}) {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

describe('access to the API and the webhooks', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  for (const [method, path] of API_ROUTES) {
    it(`${method} ${path} refuses a missing or wrong API key with 401`, async () => {
      for (const authorization of [undefined, 'Bearer wrong-key-0123456789', API_KEY, `Basic ${API_KEY}`]) {
        const answer = await send(stack, method, path, authorization);
        assert.equal(answer.status, 401, `authorization ${authorization}`);
        assert.equal(answer.body.error?.code, 'unauthorized');
      }
    });
  }

  for (const path of WEBHOOK_ROUTES) {
    it(`${path} refuses a missing or wrong webhook secret with 401`, async () => {
      for (const authorization of [undefined, 'wrong-secret-0123456789', `${WEBHOOK_SECRET}x`]) {
        const answer = await send(stack, 'POST', path, authorization, callReceived('+6591234567', '+6560000001'));
        assert.equal(answer.status, 401);
        assert.equal(answer.body.error?.code, 'unauthorized');
      }
    });
  }

  it('the same requests with the right credentials get past the door', async () => {
    assert.equal((await send(stack, 'GET', '/v1/numbers', `Bearer ${API_KEY}`)).status, 200);
    const call = await send(
      stack,
      'POST',
      '/webhooks/8x8/call-action',
      WEBHOOK_SECRET,
      callReceived('+6591234567', '+6560000001'),
    );
    assert.equal(call.status, 200);
  });
});

describe('the webhook source allow-list', () => {
  it('refuses webhooks from addresses off the list with 403, before looking at the secret', async () => {
    const stack = await startStack({ env: { MASKLINE_WEBHOOK_ALLOWED_SOURCES: '18.140.80.2,52.220.253.0/24' } });
    try {
      const answer = await send(
        stack,
        'POST',
        '/webhooks/8x8/call-action',
        WEBHOOK_SECRET,
        callReceived('+6591234567', '+6560000001'),
      );
      assert.equal(answer.status, 403);
      assert.equal(answer.body.error?.code, 'forbidden_source');
      // The booking platform's API is not subject to the webhook allow-list.
      assert.equal((await send(stack, 'GET', '/v1/numbers', `Bearer ${API_KEY}`)).status, 200);
    } finally {
      await stack.stop();
    }
  });

  it('accepts webhooks from an address on the list', async () => {
    const stack = await startStack({ env: { MASKLINE_WEBHOOK_ALLOWED_SOURCES: '18.140.80.2, 127.0.0.0/8' } });
    try {
      const answer = await send(
        stack,
        'POST',
        '/webhooks/8x8/call-action',
        WEBHOOK_SECRET,
        callReceived('+6591234567', '+6560000001'),
      );
      assert.equal(answer.status, 200);
    } finally {
      await stack.stop();
    }
  });

  it('does not let a client claim an allowed address through X-Forwarded-For unless the proxy is trusted', async () => {
    const stack = await startStack({ env: { MASKLINE_WEBHOOK_ALLOWED_SOURCES: '18.140.80.2' } });
    try {
      const response = await fetch(`${stack.baseUrl}/webhooks/8x8/call-action`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: WEBHOOK_SECRET,
          'x-forwarded-for': '18.140.80.2',
        },
        body: JSON.stringify(callReceived('+6591234567', '+6560000001')),
      });
      assert.equal(response.status, 403);
    } finally {
      await stack.stop();
    }
  });
});

/** Every route of the app as its routers hold it: method and path pattern (`/v1/bookings/:bookingId`). */
function routesOf(app: Koa): { method: string; pattern: string }[] {
  const routes = new Map<string, { method: string; pattern: string }>();
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router }).router;
    for (const layer of router?.stack ?? []) {
      for (const method of layer.methods) {
        if (typeof layer.path === 'string') routes.set(`${method} ${layer.path}`, { method, pattern: layer.path });
      }
    }
  }
  return [...routes.values()];
}

/** The credential the OpenAPI document names for a route (`apiKey`, `webhookSecret`, `codecToken`, ...), or none. */
function documentedCredential(method: string, pattern: string): string | null {
  const path = pattern.replace(/:(\w+)/g, '{$1}');
  const operations = (openApiDocument.paths as Record<string, Record<string, { security?: object[] }>>)[path];
  const operation = operations?.[method === 'HEAD' ? 'get' : method.toLowerCase()];
  assert.ok(operation, `${method} ${pattern} is served but not in the OpenAPI document`);
  const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
  assert.ok(schemes.length <= 1, `${method} ${pattern}: one credential expected, got ${schemes.join(', ')}`);
  return schemes[0] ?? null;
}

/** One way to spell a path otherwise: each takes the path and a position, and writes the path anew. */
const respelling: fc.Arbitrary<(path: string) => string> = fc.oneof(
  // A letter in the other case.
  fc.nat().map((at) => (path: string) => {
    const letters = [...path].flatMap((c, i) => (/[a-z]/i.test(c) ? [i] : []));
    const i = letters[at % Math.max(letters.length, 1)] ?? 0;
    const c = path.charAt(i);
    return path.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + path.slice(i + 1);
  }),
  // A whole segment in capitals.
  fc.nat().map((at) => (path: string) => {
    const segments = path.split('/');
    const i = 1 + (at % Math.max(segments.length - 1, 1));
    return segments.map((segment, j) => (j === i ? segment.toUpperCase() : segment)).join('/');
  }),
  // A character percent-encoded (a slash among them), in upper- or lower-case hex.
  fc.tuple(fc.nat(), fc.boolean()).map(([at, upper]) => (path: string) => {
    const i = 1 + (at % Math.max(path.length - 1, 1));
    const hex = path.charCodeAt(i).toString(16).padStart(2, '0');
    return `${path.slice(0, i)}%${upper ? hex.toUpperCase() : hex}${path.slice(i + 1)}`;
  }),
  // A slash doubled, tripled, or with a backslash after it (the path still starts with a slash, as HTTP wants).
  fc.tuple(fc.nat(), fc.constantFrom('/', '//', '\\')).map(([at, extra]) => (path: string) => {
    const slashes = [...path].flatMap((c, i) => (c === '/' ? [i] : []));
    const i = (slashes[at % slashes.length] ?? 0) + 1;
    return path.slice(0, i) + extra + path.slice(i);
  }),
  fc.constant((path: string) => `${path}/`),
  // A segment that a path normaliser takes away: `/./`, `/x/../`, encoded dots, at any slash or at the end.
  fc
    .tuple(fc.nat(), fc.constantFrom('/.', '/%2e', '/%2E', '/x/..', '/bookings/..', '/numbers/..', '/v1/%2e%2e'))
    .map(([at, segment]) => (path: string) => {
      const slashes = [...path].flatMap((c, i) => (c === '/' ? [i] : [])).concat(path.length);
      const i = slashes[at % slashes.length] ?? 0;
      return path.slice(0, i) + segment + path.slice(i);
    }),
);
const spellingOf = (path: string) =>
  fc.array(respelling, { maxLength: 4 }).map((changes) => changes.reduce((p, change) => change(p), path));
/**
 * The route's own method mostly, another now and then (a router answers those before any guard could run), but not
 * one that is a route of its own on the path with another credential (the codec's CORS preflight is open).
 */
const methodFor = (route: { method: string; pattern: string; credential: string | null }, routes: (typeof route)[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(route.method) },
    fc.constantFrom(
      ...['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter(
        (method) =>
          !routes.some((r) => r.pattern === route.pattern && r.method === method && r.credential !== route.credential),
      ),
    ),
  );

/** A raw request: the path goes out exactly as written (fetch would normalise dot segments), from a given address. */
function rawRequest(
  stack: Stack,
  options: { method: string; path: string; headers?: Record<string, string>; body?: string; from?: string },
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(stack.baseUrl);
  const body = options.method === 'POST' ? options.body : undefined;
  const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: hostname,
        port,
        method: options.method,
        path: options.path,
        localAddress: options.from ?? '127.0.0.1',
        headers: { 'content-type': 'application/json', ...length, ...options.headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

// MASKLINE_SPELLING_RUNS raises it for a long hunt (spellings are seeded at random on every run).
const SPELLING_RUNS = Number(process.env.MASKLINE_SPELLING_RUNS ?? 100);

describe('every spelling of every route', () => {
  const RIDER = '+6591238101';
  const DRIVER = '+6598768101';
  const POOL = ['+6560008101', '+6560008102'];
  // The webhook allow-list names one loopback address: requests from it pass the list, those from 127.0.0.1 do not.
  const ALLOWED_SOURCE = '127.0.0.2';
  let stack: Stack;
  let bookingId: string;
  let routes: { method: string; pattern: string; credential: string | null }[];
  let bodies: Record<string, string>;
  let tried = 0;
  let reachedRoute = 0;

  before(async () => {
    stack = await startStack({ env: { MASKLINE_WEBHOOK_ALLOWED_SOURCES: ALLOWED_SOURCE } });
    for (const number of POOL) assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);
    bookingId = uniqueId('spelling');
    const parties = [
      { role: 'rider', number: RIDER },
      { role: 'driver', number: DRIVER },
    ];
    const created = await api(stack, 'POST', '/v1/bookings', { bookingId, parties });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const logger = createLogger({ level: 'silent', destination: new CapturedLogs() });
    const { app } = createHttpApplication(stack.config, { database: stack.database, temporal: stack.temporal, logger });
    routes = routesOf(app).map((route) => ({
      ...route,
      credential: documentedCredential(route.method, route.pattern),
    }));
    const [secretParty] = await new EncryptionCodec(stack.config.encryptionKeys).encode([
      defaultPayloadConverter.toPayload({ number: RIDER }),
    ]);
    const codecBody = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(secretParty?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(secretParty?.data ?? []).toString('base64'),
        },
      ],
    });
    // Bodies that would do harm past the door: a number of the attacker's in the pool, a booking, a call routed.
    bodies = {
      '/v1/numbers': JSON.stringify({ number: '+6560008199' }),
      '/v1/bookings': JSON.stringify({ bookingId: uniqueId('intruder'), parties }),
      '/codec/decode': codecBody,
      '/codec/encode': codecBody,
      webhook: JSON.stringify(callReceived(RIDER, created.body.virtualNumber)),
    };
  });
  after(async () => {
    console.log(`route spellings: ${tried} requests without the credential, ${reachedRoute} answered other than 404`);
    await stack.stop();
  });

  it('finds the routes that need a credential in the routers, each documented with its credential', () => {
    const guarded = routes.filter((route) => route.credential !== null);
    for (const credential of ['apiKey', 'webhookSecret', 'codecToken', 'metricsToken']) {
      assert.ok(
        guarded.some((route) => route.credential === credential),
        `no route needs ${credential}: ${JSON.stringify(routes)}`,
      );
    }
  });

  it('answers any spelling of a guarded route without its credential with 404, 401 or 403, and nothing leaks', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.credential !== null)) {
      const path = route.pattern.replace(':bookingId', bookingId).replace(':number', encodeURIComponent(POOL[0] ?? ''));
      const body = route.credential === 'webhookSecret' ? bodies.webhook : (bodies[route.pattern] ?? '{}');
      // Without the credential; for webhooks, the right secret from an address off the allow-list as well.
      const attempts: { headers: Record<string, string>; from: string; refusal: number }[] =
        route.credential === 'webhookSecret'
          ? [
              { headers: {}, from: ALLOWED_SOURCE, refusal: 401 },
              { headers: { authorization: WEBHOOK_SECRET }, from: '127.0.0.1', refusal: 403 },
            ]
          : [{ headers: {}, from: '127.0.0.1', refusal: 401 }];
      const run = await fc.check(
        fc.asyncProperty(spellingOf(path), methodFor(route, routes), async (spelled, method) => {
          for (const attempt of attempts) {
            const answer = await rawRequest(stack, { method, path: spelled, body, ...attempt });
            tried += 1;
            if (answer.status !== 404) reachedRoute += 1;
            const what = `${method} ${spelled} (${route.credential} withheld, from ${attempt.from})`;
            assert.ok(
              answer.status === 404 || answer.status === attempt.refusal,
              `${what}: answered ${answer.status} ${answer.text.slice(0, 300)}`,
            );
            for (const number of [RIDER, DRIVER]) {
              assert.ok(!answer.text.includes(number.slice(1)), `${what}: the answer holds ${number}`);
            }
            assert.ok(!answer.text.includes('"payloads"'), `${what}: the codec answered`);
          }
        }),
        { numRuns: SPELLING_RUNS },
      );
      // Every route is tried, so that a failure lists every door left open, not the first one.
      if (run.failed) failures.push(run.errorInstance instanceof Error ? run.errorInstance.message : String(run));
    }
    assert.deepEqual(failures, []);

    const pool = await api(stack, 'GET', '/v1/numbers');
    assert.deepEqual(
      pool.body.numbers.map((n: { number: string; status: string }) => `${n.number} ${n.status}`).sort(),
      POOL.map((number) => `${number} active`),
    );
    const booking = await api(stack, 'GET', `/v1/bookings/${bookingId}`);
    assert.equal(booking.body.status, 'active');
  });

  it('serves a path spelled one way only: any other spelling is 404 even with the credential', async () => {
    const authorization = `Bearer ${API_KEY}`;
    for (const path of [
      '/V1/numbers',
      '/v1/Numbers',
      '//v1/numbers',
      '/v1//numbers',
      '/v1/numbers/',
      '/%76%31/numbers',
      '/v1/%6Eumbers',
      '/v1/./numbers',
      '/v1/bookings/../numbers',
      '/v1/numbers/%2e',
      `/v1/bookings/${bookingId}/.`,
      `/v1/bookings/${bookingId}%2Fcancel`,
      '/v1\\numbers',
    ]) {
      const answer = await rawRequest(stack, { method: 'GET', path, headers: { authorization } });
      assert.equal(answer.status, 404, `${path}: ${answer.text}`);
      assert.equal(JSON.parse(answer.text).error.code, 'not_found');
    }
    // Percent-encoding that is not of a letter, digit or -._~ names the same route, in either hex case.
    for (const path of ['/v1/numbers', `/v1/bookings/${bookingId}`]) {
      assert.equal((await rawRequest(stack, { method: 'GET', path, headers: { authorization } })).status, 200);
    }
    for (const encoded of ['%2B6560008102', '%2b6560008102']) {
      const drained = await rawRequest(stack, {
        method: 'DELETE',
        path: `/v1/numbers/${encoded}`,
        headers: { authorization },
      });
      assert.equal(drained.status, 202, drained.text);
    }
  });
});

/** The stack's HTTP application wired as the server process wires it, with other settings. */
async function serveVariant(stack: Stack, overrides: Partial<Stack['config']>) {
  const logger = createLogger({ level: 'silent', destination: new CapturedLogs() });
  const config = { ...stack.config, ...overrides };
  const { app } = createHttpApplication(config, { database: stack.database, temporal: stack.temporal, logger });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop() {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('the credentials as configured and as sent', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  // 8x8 sends the registered httpAuthHeader verbatim; an operator may well register it with a scheme in front.
  for (const secret of [
    'Bearer 0123456789abcdef0123',
    'bearer 0123456789abcdef0123',
    'Basic dXNlcjpwYXNzd29yZDAxMjM0NQ==',
    '0123456789abcdef0123',
  ]) {
    it(`matches the secret "${secret}" sent verbatim, and refuses near misses`, async () => {
      const server = await serveVariant(stack, { webhookSecret: secret });
      try {
        const post = async (authorization: string | undefined) => {
          const response = await fetch(`${server.baseUrl}/webhooks/8x8/call-action`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
            body: JSON.stringify(callReceived('+6591234567', '+6560000001')),
          });
          return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
        };
        assert.equal((await post(secret)).status, 200, 'the verbatim header');
        const token = secret.replace(/^\S+ /, '');
        // (Whitespace around a header value is not part of it in HTTP, so `${secret} ` is no near miss.)
        const misses = [undefined, '', `${secret}x`, secret.slice(0, -1), secret.toUpperCase(), `x${secret}`];
        // The token alone, or behind another scheme, is not the secret.
        if (token !== secret) misses.push(token, ...[`Bearer ${token}`, `Basic ${token}`].filter((m) => m !== secret));
        for (const wrong of misses) {
          const answer = await post(wrong);
          assert.equal(answer.status, 401, `authorization ${JSON.stringify(wrong)}`);
          assert.equal(answer.body.error?.code, 'unauthorized');
        }
      } finally {
        server.stop();
      }
    });
  }

  it('keeps the API and the webhooks closed when their credential is unset outside development mode', async () => {
    const closed = await serveVariant(stack, { apiKey: null, webhookSecret: null, developmentMode: false });
    const open = await serveVariant(stack, { apiKey: null, webhookSecret: null, developmentMode: true });
    try {
      const call = JSON.stringify(callReceived('+6591234567', '+6560000001'));
      const ask = (baseUrl: string, path: string, authorization: string) =>
        fetch(`${baseUrl}${path}`, {
          method: path.startsWith('/webhooks/') ? 'POST' : 'GET',
          headers: { 'content-type': 'application/json', authorization },
          ...(path.startsWith('/webhooks/') ? { body: call } : {}),
        });
      for (const [path, variable] of [
        ['/v1/numbers', 'MASKLINE_API_KEY'],
        ['/webhooks/8x8/call-action', 'MASKLINE_WEBHOOK_SECRET'],
      ] as const) {
        for (const authorization of ['', 'Bearer anything-at-all-here', 'anything-at-all-here']) {
          const refused = await ask(closed.baseUrl, path, authorization);
          assert.equal(refused.status, 401, `${path} with ${JSON.stringify(authorization)}`);
          assert.match(((await refused.json()) as { error: { message: string } }).error.message, new RegExp(variable));
        }
        assert.equal((await ask(open.baseUrl, path, '')).status, 200, `${path} in development mode`);
      }
    } finally {
      closed.stop();
      open.stop();
    }
  });
});

describe('X-Forwarded-For behind a given number of proxies', () => {
  const EIGHT_BY_EIGHT = '18.140.80.2';
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { MASKLINE_WEBHOOK_ALLOWED_SOURCES: EIGHT_BY_EIGHT, MASKLINE_TRUST_PROXY: '1' } });
  });
  after(() => stack.stop());

  const callAction = (baseUrl: string, forwardedFor: string | undefined) =>
    fetch(`${baseUrl}/webhooks/8x8/call-action`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: WEBHOOK_SECRET,
        ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
      },
      body: JSON.stringify(callReceived('+6591234567', '+6560000001')),
    }).then((response) => response.status);

  it('MASKLINE_TRUST_PROXY=1: the address the proxy appended counts, not one the client wrote before it', async () => {
    assert.equal(await callAction(stack.baseUrl, EIGHT_BY_EIGHT), 200, 'genuine: the proxy appended 8x8');
    assert.equal(await callAction(stack.baseUrl, `${EIGHT_BY_EIGHT}, 203.0.113.9`), 403, 'forged by 203.0.113.9');
    assert.equal(await callAction(stack.baseUrl, `203.0.113.9, ${EIGHT_BY_EIGHT}`), 200, 'junk the client wrote');
    assert.equal(await callAction(stack.baseUrl, undefined), 403, 'no proxy on the way');
  });

  it('trusts exactly the configured number of hops, whatever the client writes in front', async () => {
    const address = fc.oneof(
      fc.constant(EIGHT_BY_EIGHT),
      fc.ipV4(),
      fc.ipV6(),
      fc.constantFrom('', 'unknown', `${EIGHT_BY_EIGHT}:443`, `::ffff:${EIGHT_BY_EIGHT}`),
    );
    const servers = new Map<number, Awaited<ReturnType<typeof serveVariant>>>();
    try {
      for (const hops of [1, 2, 3]) servers.set(hops, await serveVariant(stack, { trustedProxies: hops }));
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(1, 2, 3),
          fc.array(address, { maxLength: 3 }),
          fc.constantFrom(EIGHT_BY_EIGHT, '203.0.113.9'),
          fc.array(fc.ipV4(), { minLength: 2, maxLength: 2 }),
          async (hops, written, client, proxies) => {
            // The client writes anything; the first proxy appends the client's address, each proxy after it the
            // address of the one before, and the last one connects.
            const chain = [...written, ...[client, ...proxies].slice(0, hops)].join(', ');
            const status = await callAction(servers.get(hops)?.baseUrl ?? '', chain);
            assert.equal(status, client === EIGHT_BY_EIGHT ? 200 : 403, `${hops} hops, X-Forwarded-For: ${chain}`);
          },
        ),
        { numRuns: 150 },
      );
      // Fewer entries than proxies: not every proxy wrote one, so any of them may be the client's; refused.
      for (const [hops, chain] of [
        [2, EIGHT_BY_EIGHT],
        [3, `${EIGHT_BY_EIGHT}, ${EIGHT_BY_EIGHT}`],
        [2, `, ${EIGHT_BY_EIGHT}`],
      ] as const) {
        assert.equal(await callAction(servers.get(hops)?.baseUrl ?? '', chain), 403, `${hops} hops: ${chain}`);
      }
    } finally {
      for (const server of servers.values()) server.stop();
    }
  });

  it('refuses MASKLINE_TRUST_PROXY=true, which trusted the whole chain, naming what to set instead', () => {
    assert.throws(
      () => loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'true', MASKLINE_TRUST_PROXY: 'true' }),
      /MASKLINE_TRUST_PROXY: .*number of proxies/,
    );
    for (const [value, hops] of [
      ['false', 0],
      ['0', 0],
      ['1', 1],
      ['2', 2],
    ] as const) {
      assert.equal(loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'true', MASKLINE_TRUST_PROXY: value }).trustedProxies, hops);
    }
    assert.equal(loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'true' }).trustedProxies, 0);
  });
});
