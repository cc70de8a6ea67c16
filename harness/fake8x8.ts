import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { validateAgainst } from './eightbyeightSchemas';

// A stand-in for 8x8's number-masking management API on loopback: the paths, auth and answers of
// number_masking_api.json. Every request we make and every answer it gives is checked against that spec; what
// does not conform is collected in `specViolations`, which the tests expect to stay empty.

export const FAKE_API_KEY = 'fake-8x8-api-key-0123456789';
export const FAKE_SUBACCOUNT = 'maskline_fake-sub';

const SUBACCOUNT_PATH = '/api/v1/subaccounts/{subAccountId}';
const spec = {
  numbers: `#/paths/${escape(`${SUBACCOUNT_PATH}/numbers`)}/get`,
  number: `#/paths/${escape(`${SUBACCOUNT_PATH}/numbers/{number}`)}/get`,
  webhooks: `#/paths/${escape(`${SUBACCOUNT_PATH}/webhooks`)}`,
  webhook: `#/paths/${escape(`${SUBACCOUNT_PATH}/webhooks/{webhook-type}`)}/delete`,
  recordingPushConfig: `#/paths/${escape(`${SUBACCOUNT_PATH}/recording-push-config`)}`,
};

// A path as a JSON pointer segment in a URI fragment, the way the spec's own `$ref`s write it.
function escape(path: string): string {
  return encodeURIComponent(path.replace(/~/g, '~0').replace(/\//g, '~1')).replace(/%7E/gi, '~');
}

/** A virtual number of the fake subaccount; `msisdn` is served exactly as given (with or without `+`). */
export interface FakeNumber {
  msisdn: string;
  countryCode?: string;
  operationalStatus?: string;
  referenceId?: string;
  numberHealth?: { isHealthy: boolean; status: string; lastCheckedTime: string };
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/** An answer forced on the next request(s), whatever it asks: an error, a hang, a dropped connection. */
export type ForcedAnswer =
  { status: number; body?: unknown; headers?: Record<string, string> } | { hang: true } | { dropConnection: true };

export interface Fake8x8 {
  baseUrl: string;
  apiKey: string;
  subAccountId: string;
  numbers: FakeNumber[];
  /**
   * Answered as `totalNumbers` instead of the real count, to serve a listing that is short of its total; `omitted`
   * leaves the field out.
   */
  reportedTotal: number | 'omitted' | null;
  webhooks: Map<string, { url: string; enabled: boolean; httpAuthHeader: string | null }>;
  /** Where recordings are pushed, password included (8x8 keeps it; it never answers with it). */
  recordingPushConfig: {
    protocol: string;
    host: string;
    port: number;
    username: string;
    password: string;
    path: string;
  } | null;
  requests: RecordedRequest[];
  specViolations: string[];
  /** The next `times` requests get this answer. */
  force(answer: ForcedAnswer, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFake8x8(options: { apiKey?: string; subAccountId?: string } = {}): Promise<Fake8x8> {
  const forced: ForcedAnswer[] = [];
  const sockets = new Set<Socket>();
  const fake: Fake8x8 = {
    baseUrl: '',
    apiKey: options.apiKey ?? FAKE_API_KEY,
    subAccountId: options.subAccountId ?? FAKE_SUBACCOUNT,
    numbers: [],
    reportedTotal: null,
    webhooks: new Map(),
    recordingPushConfig: null,
    requests: [],
    specViolations: [],
    force(answer, times = 1) {
      for (let i = 0; i < times; i++) forced.push(answer);
    },
    reset() {
      forced.length = 0;
      fake.numbers = [];
      fake.reportedTotal = null;
      fake.webhooks.clear();
      fake.recordingPushConfig = null;
      fake.requests.length = 0;
      fake.specViolations.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      fake.specViolations.push(`fake 8x8 failed: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    const method = request.method ?? 'GET';
    fake.requests.push({ method, path, authorization: request.headers.authorization, body });

    const next = forced.shift();
    if (next && 'hang' in next) return; // never answers: the client's deadline must end it
    if (next && 'dropConnection' in next) {
      request.socket.destroy();
      return;
    }
    if (next) return answer(response, next.status, next.body, undefined, next.headers);
    route({ method, path, body, authorization: request.headers.authorization }, response);
  }

  function answer(
    response: ServerResponse,
    status: number,
    body?: unknown,
    schema?: string,
    headers: Record<string, string> = {},
  ) {
    if (schema && body !== undefined) check(`answer ${status} ${schema}`, schema, body);
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body === undefined ? '' : JSON.stringify(body));
  }

  function check(what: string, pointer: string, value: unknown) {
    const result = validateAgainst('masking', pointer, value);
    for (const error of result.errors) fake.specViolations.push(`${what}: ${error}`);
  }

  function refusal(statusMessage: string) {
    return { errorId: randomUUID(), statusCode: '1001', statusMessage, timestamp: new Date().toISOString() };
  }

  function route(
    { method, path, body, authorization }: Omit<RecordedRequest, 'authorization'> & { authorization?: string },
    response: ServerResponse,
  ) {
    const match = /^\/api\/v1\/subaccounts\/([^/]+)(\/.*)$/.exec(path);
    if (!match) return answer(response, 404, { statusCode: 404, statusMessage: 'Resource not found' });
    if (!/^[A-Za-z0-9\-._&]{3,50}$/.test(decodeURIComponent(match[1]!))) {
      fake.specViolations.push(`request ${method} ${path}: subAccountId does not match the spec's pattern`);
    }
    if (authorization !== `Bearer ${fake.apiKey}`) {
      return answer(response, 401, { statusCode: 401, statusMessage: 'API key not found or invalid' });
    }
    if (decodeURIComponent(match[1]!) !== fake.subAccountId) {
      return answer(response, 403, { statusCode: 403, statusMessage: 'Resource not accessible' });
    }
    const rest = match[2]!;
    const subAccountId = fake.subAccountId;

    if (method === 'GET' && rest === '/numbers') {
      const listing = {
        ...(fake.reportedTotal === 'omitted' ? {} : { totalNumbers: fake.reportedTotal ?? fake.numbers.length }),
        lastUpdatedAt: new Date().toISOString(),
        numbers: fake.numbers.map((n) => ({
          msisdn: n.msisdn,
          countryCode: n.countryCode ?? 'SG',
          operationalStatus: n.operationalStatus ?? 'Active',
          referenceId: n.referenceId ?? `ref-${n.msisdn.replace(/^\+/, '')}`,
          dateCreated: '2024-05-01T00:00:00Z',
          dateUpdated: '2024-05-16T00:00:00Z',
          rentalPrice: 10,
          incomingRate: 0.01,
          billingUnit: 60,
          billingCurrency: 'SGD',
          numberType: 'MOBILE',
          numberHealthCheckEnabled: n.numberHealth !== undefined,
          uri: `/api/v1/subaccounts/${subAccountId}/numbers/${n.msisdn.replace(/^\+/, '')}`,
          ...(n.numberHealth ? { numberHealth: n.numberHealth } : {}),
        })),
        statusCode: 0,
        statusMessage: 'ok',
      };
      return answer(response, 200, listing, `${spec.numbers}/responses/200/content/application~1json/schema`);
    }

    const numberPath = /^\/numbers\/([^/]+)$/.exec(rest);
    if (method === 'GET' && numberPath) {
      const digits = numberPath[1]!;
      if (!/^[0-9]+$/.test(digits)) fake.specViolations.push(`request GET ${path}: the number must be digits only`);
      const found = fake.numbers.find((n) => n.msisdn.replace(/^\+/, '') === digits);
      if (!found) {
        const notFound = {
          statusCode: 404,
          statusMessage: 'Virtual number not found',
          timestamp: new Date().toISOString(),
        };
        return answer(response, 404, notFound, `${spec.number}/responses/404/content/application~1json/schema`);
      }
      const checked = {
        statusCode: 0,
        statusMessage: 'ok',
        timestamp: new Date().toISOString(),
        payload: {
          referenceId: found.referenceId ?? `ref-${digits}`,
          msisdn: found.msisdn,
          countryCode: found.countryCode ?? 'SG',
        },
      };
      return answer(response, 200, checked, `${spec.number}/responses/200/content/application~1json/schema`);
    }

    if (rest === '/webhooks' && method === 'GET') {
      return answer(
        response,
        200,
        webhookList(),
        `${spec.webhooks}/get/responses/200/content/application~1json/schema`,
      );
    }

    if (rest === '/webhooks' && method === 'POST') {
      check('request POST webhooks', `${spec.webhooks}/post/requestBody/content/application~1json/schema`, body);
      const registration = body as { type?: unknown; url?: unknown; httpAuthHeader?: unknown; enabled?: unknown };
      if (typeof registration !== 'object' || registration === null) {
        return answer(response, 422, refusal('Invalid JSON request body'), '#/components/schemas/errorResponse');
      }
      if (!['VCA', 'VCS', 'VSS', 'VRU', 'VNU'].includes(String(registration.type))) {
        return answer(response, 422, refusal('Invalid param: type'), '#/components/schemas/errorResponse');
      }
      if (typeof registration.url !== 'string' || !/^https:\/\//.test(registration.url)) {
        return answer(
          response,
          422,
          refusal('Invalid param: url must be an https URL'),
          '#/components/schemas/errorResponse',
        );
      }
      fake.webhooks.set(String(registration.type), {
        url: registration.url,
        enabled: registration.enabled !== false,
        httpAuthHeader: typeof registration.httpAuthHeader === 'string' ? registration.httpAuthHeader : null,
      });
      return answer(
        response,
        200,
        webhookList(),
        `${spec.webhooks}/post/responses/200/content/application~1json/schema`,
      );
    }

    const webhookPath = /^\/webhooks\/([^/]+)$/.exec(rest);
    if (webhookPath && method === 'DELETE') {
      const type = webhookPath[1]!;
      check(`request DELETE ${path}`, `${spec.webhook}/parameters/1/schema`, type);
      const existing = fake.webhooks.get(type);
      if (!existing) return answer(response, 404, { statusCode: 404, statusMessage: `no ${type} webhook` });
      fake.webhooks.delete(type);
      const deleted = {
        subAccountId,
        type,
        url: existing.url,
        enabled: false,
        httpAuthHeaderAvailable: existing.httpAuthHeader !== null,
        statusCode: 0,
        statusMessage: 'deleted',
      };
      return answer(response, 200, deleted, `${spec.webhook}/responses/200/content/application~1json/schema`);
    }

    if (rest === '/recording-push-config') return recordingPush(method, body, response);

    return answer(response, 404, { statusCode: 404, statusMessage: 'Resource not found' });
  }

  function recordingPush(method: string, body: unknown, response: ServerResponse) {
    const answerSchema = (verb: string) =>
      `${spec.recordingPushConfig}/${verb}/responses/200/content/application~1json/schema`;
    const shown = () => {
      const { password, ...config } = fake.recordingPushConfig!;
      return {
        subAccountId: fake.subAccountId,
        ...config,
        passwordSet: password !== '',
        statusCode: 0,
        statusMessage: 'ok',
      };
    };
    if (method === 'POST') {
      check(
        'request POST recording-push-config',
        `${spec.recordingPushConfig}/post/requestBody/content/application~1json/schema`,
        body,
      );
      const setup = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const fields = ['protocol', 'host', 'username', 'password', 'path'] as const;
      const missing =
        fields.find((field) => typeof setup[field] !== 'string') ?? (Number.isInteger(setup.port) ? null : 'port');
      if (missing)
        return answer(response, 422, refusal(`Invalid param: ${missing}`), '#/components/schemas/errorResponse');
      if (!['S3', 'SFTP'].includes(String(setup.protocol).toUpperCase())) {
        return answer(response, 422, refusal('Invalid param: protocol'), '#/components/schemas/errorResponse');
      }
      fake.recordingPushConfig = {
        protocol: String(setup.protocol),
        host: String(setup.host),
        port: setup.port as number,
        username: String(setup.username),
        password: String(setup.password),
        path: String(setup.path),
      };
      return answer(response, 200, shown(), answerSchema('post'));
    }
    if (fake.recordingPushConfig === null) {
      return answer(response, 404, { statusCode: 404, statusMessage: 'no recording push config' });
    }
    if (method === 'GET') return answer(response, 200, shown(), answerSchema('get'));
    if (method === 'DELETE') {
      const deleted = { delete: true, ...shown() };
      fake.recordingPushConfig = null;
      return answer(response, 200, deleted, answerSchema('post'));
    }
    return answer(response, 404, { statusCode: 404, statusMessage: 'Resource not found' });
  }

  function webhookList() {
    const webhooks = [...fake.webhooks].map(([type, webhook]) => ({
      type,
      url: webhook.url,
      enabled: webhook.enabled,
      httpAuthHeaderAvailable: webhook.httpAuthHeader !== null,
    }));
    return { subAccountId: fake.subAccountId, count: webhooks.length, webhooks, statusCode: 0, statusMessage: 'ok' };
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
