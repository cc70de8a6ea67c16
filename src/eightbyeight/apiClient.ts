import { z } from 'zod';
import { toE164 } from '../domain/phoneNumbers';

// The calls we make to 8x8: webhook registration, the subaccount's virtual numbers and its recording push
// configuration (number_masking_api.json).
// Every path sits under /api/v1/subaccounts/{subAccountId}/ and takes `Authorization: Bearer <apiKey>`.

/** The 8x8 subaccount Maskline works for. */
export interface EightByEightAccount {
  apiKey: string;
  subAccountId: string;
  /** `https://voice.8x8.com`; the legacy host `https://voice.wavecell.com` serves the same paths. */
  baseUrl: string;
}

export const DEFAULT_BASE_URL = 'https://voice.8x8.com';

/** Voice Call Action, Call Status, Session Summary, Recording Uploaded, Virtual Number Updated. */
export const WEBHOOK_TYPES = ['VCA', 'VCS', 'VSS', 'VRU', 'VNU'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

export interface RegisteredWebhook {
  type: string;
  url: string;
  enabled: boolean;
  /** 8x8 never shows the header it keeps, only whether there is one. */
  httpAuthHeaderAvailable: boolean;
}

export interface WebhookRegistration {
  type: WebhookType;
  url: string;
  /** Sent back verbatim as the Authorization header of every webhook of this type. */
  httpAuthHeader?: string;
  enabled: boolean;
}

/** A virtual number of the subaccount as 8x8 reports it. */
export interface SubaccountNumber {
  /** E.164. */
  msisdn: string;
  countryCode: string | null;
  /** `Active`, `Expiring`, `Inactive` (and `Unhealthy` in webhooks); null when 8x8 left it out. */
  operationalStatus: string | null;
  referenceId: string | null;
  numberType: string | null;
  /** 8x8's last reachability check; null when health checks are off for the number. */
  health: { isHealthy: boolean | null; status: string | null; lastCheckedTime: string | null } | null;
}

export interface NumberListing {
  /**
   * How many numbers the subaccount has; more than `numbers.length` means the list is incomplete. Null when 8x8
   * left it out: then the list cannot be known complete.
   */
  totalNumbers: number | null;
  lastUpdatedAt: string | null;
  numbers: SubaccountNumber[];
}

/**
 * Where 8x8 pushes the recordings of the subaccount's calls: an S3 bucket (`host` is its AWS region) or an SFTP
 * server. Calls are recorded (makeCall's `callRecording`) only once one is set.
 */
export interface RecordingPushSetup {
  /** `S3` or `SFTP`. */
  protocol: string;
  host: string;
  port: number;
  username: string;
  password: string;
  /** The remote directory. */
  path: string;
}

/** The recording push configuration as 8x8 shows it: never the password, only whether one is set. */
export interface RecordingPushConfig {
  protocol: string | null;
  host: string | null;
  port: number | null;
  username: string | null;
  passwordSet: boolean;
  path: string | null;
}

/** What went wrong, in terms an operator can act on. */
export type EightByEightFailure =
  | 'unauthorized' // 401: the API key is wrong or revoked
  | 'forbidden' // 403: the key does not reach this subaccount
  | 'not_found' // 404
  | 'rejected' // 4xx with a reason, e.g. 422 "Invalid param"
  | 'rate_limited' // 429: 8x8 asks us to slow down, for Retry-After when it says
  | 'server_error' // 5xx, after the retries
  | 'unreachable' // connection refused, DNS, TLS, reset, after the retries
  | 'timeout' // no answer in time, after the retries
  | 'unexpected_answer'; // 2xx whose body is not what the spec describes

export class EightByEightApiError extends Error {
  override name = 'EightByEightApiError';
  constructor(
    readonly failure: EightByEightFailure,
    message: string,
    readonly details: {
      method: string;
      path: string;
      status: number | null;
      statusMessage: string | null;
      errorId: string | null;
      attempts: number;
      /** How long 8x8 asked us to wait before asking again (its Retry-After), when it said. */
      retryAfterMs: number | null;
    },
  ) {
    super(message);
  }

  /** Worth trying again later: 8x8 or the network was at fault, or 8x8 was busy; not the request or the key. */
  get transient(): boolean {
    return (
      this.failure === 'server_error' ||
      this.failure === 'rate_limited' ||
      this.failure === 'unreachable' ||
      this.failure === 'timeout'
    );
  }
}

export interface ApiClientOptions {
  /** Per attempt, including reading the body. */
  timeoutMs?: number;
  /**
   * Attempts in all for transient failures (5xx, 429, network errors); other answers are never repeated. One by
   * default: inside Temporal an activity's retry policy is the only loop. The command line asks for more.
   */
  maxAttempts?: number;
  /** First backoff; doubled on each retry, with jitter, capped at 5 s. Retry-After takes its place when given. */
  retryDelayMs?: number;
  /** The longest Retry-After waited for before another attempt; a longer one fails the call at once. */
  maxRetryAfterMs?: number;
  /** Told before each wait for another attempt, so that whoever waits can say why. */
  onRetry?: (retry: { error: EightByEightApiError; delayMs: number }) => void;
}

const DEFAULTS = {
  timeoutMs: 10_000,
  maxAttempts: 1,
  retryDelayMs: 500,
  maxRetryAfterMs: 60_000,
  onRetry: () => undefined,
} satisfies Required<ApiClientOptions>;
const MAX_RETRY_DELAY_MS = 5_000;

// Status lines for errors whose body says nothing (the spec documents bodies for 422 and 404 only).
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized: API key not found or invalid',
  403: 'Forbidden: resource not accessible with this API key',
  404: 'Not Found',
  422: 'Invalid param',
  429: 'Too Many Requests',
};

// --- answers, read liberally: 8x8 types `statusCode` as an integer on success and as a string on 422 ---------

const text = z.string().optional().catch(undefined);
const flag = z.boolean().optional().catch(undefined);

const webhookResource = z.object({
  type: z.string(),
  url: z.string(),
  enabled: z.boolean().catch(false),
  httpAuthHeaderAvailable: z.boolean().catch(false),
});

const webhookList = z.object({ webhooks: z.array(webhookResource).default([]) });

const msisdn = z.union([z.string(), z.number().transform(String)]).transform((raw, ctx) => {
  const e164 = toE164(raw);
  if (e164 === null) {
    ctx.addIssue({ code: 'custom', message: `not an international phone number: ${JSON.stringify(raw)}` });
    return z.NEVER;
  }
  return e164;
});

const subaccountNumber = z
  .object({
    msisdn,
    countryCode: text,
    operationalStatus: text,
    referenceId: text,
    numberType: text,
    numberHealth: z.object({ isHealthy: flag, status: text, lastCheckedTime: text }).optional().catch(undefined),
  })
  .transform((n): SubaccountNumber => ({
    msisdn: n.msisdn,
    countryCode: n.countryCode?.toUpperCase() ?? null,
    operationalStatus: n.operationalStatus ?? null,
    referenceId: n.referenceId ?? null,
    numberType: n.numberType ?? null,
    health: n.numberHealth
      ? {
          isHealthy: n.numberHealth.isHealthy ?? null,
          status: n.numberHealth.status ?? null,
          lastCheckedTime: n.numberHealth.lastCheckedTime ?? null,
        }
      : null,
  }));

// A number 8x8 lists but we cannot read fails the whole listing: skipping it would look like "gone" to the sync.
const numberListing = z
  .object({
    totalNumbers: z.number().int().nonnegative().optional().catch(undefined),
    lastUpdatedAt: text,
    numbers: z.array(subaccountNumber).default([]),
  })
  .transform((listing): NumberListing => ({
    totalNumbers: listing.totalNumbers ?? null,
    lastUpdatedAt: listing.lastUpdatedAt ?? null,
    numbers: listing.numbers,
  }));

// `GET .../numbers/{number}` answers `{payload: {msisdn, countryCode, referenceId}}`; status fields when present.
const checkedNumber = z.object({ payload: subaccountNumber }).transform((answer) => answer.payload);

const recordingPushConfig = z
  .object({
    protocol: text,
    host: text,
    port: z.number().int().optional().catch(undefined),
    username: text,
    passwordSet: flag,
    path: text,
  })
  .transform((config): RecordingPushConfig => ({
    protocol: config.protocol ?? null,
    host: config.host ?? null,
    port: config.port ?? null,
    username: config.username ?? null,
    passwordSet: config.passwordSet ?? false,
    path: config.path ?? null,
  }));

const errorAnswer = z.object({
  errorId: z.string().optional().catch(undefined),
  statusCode: z.union([z.string(), z.number()]).optional().catch(undefined),
  statusMessage: z.string().optional().catch(undefined),
});

/**
 * A typed client of 8x8's number-masking management API, on Node's fetch. Each attempt has a deadline. A call is
 * one request unless the caller asks for retries (outside Temporal): then 5xx and 429 answers and network failures
 * are retried, after Retry-After when 8x8 gives one, else with backoff. Errors say what 8x8 answered, whether
 * another try is worth it (`transient`) and when (`retryAfterMs`).
 */
export class EightByEightApiClient {
  private readonly options: Required<ApiClientOptions>;
  private readonly root: string;

  constructor(
    readonly account: EightByEightAccount,
    options: ApiClientOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.root = `${account.baseUrl.replace(/\/+$/, '')}/api/v1/subaccounts/${encodeURIComponent(account.subAccountId)}`;
  }

  async listWebhooks(): Promise<RegisteredWebhook[]> {
    return (await this.request('GET', '/webhooks', webhookList)).webhooks;
  }

  /** Registers (or replaces: 8x8 keeps one URL per type) a webhook; answers with the subaccount's webhooks. */
  async registerWebhook(registration: WebhookRegistration): Promise<RegisteredWebhook[]> {
    return (await this.request('POST', '/webhooks', webhookList, registration)).webhooks;
  }

  async deleteWebhook(type: WebhookType): Promise<void> {
    await this.request('DELETE', `/webhooks/${type}`, z.unknown(), undefined, { repeatedDeleteIsDone: true });
  }

  /** The subaccount's virtual numbers with their status and health. The spec describes no paging. */
  async listNumbers(): Promise<NumberListing> {
    return this.request('GET', '/numbers', numberListing);
  }

  /** One number of the subaccount, or null when 8x8 does not know it (404). */
  async getNumber(number: string): Promise<SubaccountNumber | null> {
    const e164 = toE164(number);
    if (e164 === null) throw new TypeError(`not an international phone number: ${number}`);
    try {
      // The path takes the digits only (the spec's pattern is `^[0-9]{7,10}$`).
      return await this.request('GET', `/numbers/${e164.slice(1)}`, checkedNumber);
    } catch (error) {
      if (error instanceof EightByEightApiError && error.failure === 'not_found') return null;
      throw error;
    }
  }

  /** The subaccount's recording push configuration, or null when none is set (404). */
  async getRecordingPushConfig(): Promise<RecordingPushConfig | null> {
    try {
      return await this.request('GET', '/recording-push-config', recordingPushConfig);
    } catch (error) {
      if (error instanceof EightByEightApiError && error.failure === 'not_found') return null;
      throw error;
    }
  }

  /** Sets (or replaces) where 8x8 pushes recordings; answers with the configuration as 8x8 keeps it. */
  async setRecordingPushConfig(setup: RecordingPushSetup): Promise<RecordingPushConfig> {
    return this.request('POST', '/recording-push-config', recordingPushConfig, setup);
  }

  /** Removes the recording push configuration: 8x8 then records no calls. */
  async deleteRecordingPushConfig(): Promise<void> {
    await this.request('DELETE', '/recording-push-config', z.unknown(), undefined, { repeatedDeleteIsDone: true });
  }

  private async request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    answer: z.ZodType<T>,
    body?: unknown,
    { repeatedDeleteIsDone = false } = {},
  ): Promise<T> {
    const url = `${this.root}${path}`;
    const where = { method, path: new URL(url).pathname };
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(method, url, body);
      // A DELETE whose first attempt landed but whose answer was lost finds nothing the second time: done.
      if (outcome.kind === 'answer' && outcome.status === 404 && repeatedDeleteIsDone && attempt > 1) {
        return undefined as T;
      }
      if (outcome.kind === 'answer' && outcome.status >= 200 && outcome.status < 300) {
        return parsedAnswer(answer, outcome.json, { ...where, status: outcome.status, attempts: attempt });
      }
      const error =
        outcome.kind === 'network'
          ? networkError(outcome, { ...where, attempts: attempt, timeoutMs: this.options.timeoutMs })
          : errorOf(outcome.status, outcome.json, outcome.retryAfterMs, { ...where, attempts: attempt });
      const { retryAfterMs } = error.details;
      if (!error.transient || attempt >= this.options.maxAttempts) throw error;
      if (retryAfterMs !== null && retryAfterMs > this.options.maxRetryAfterMs) throw error;
      const delayMs = retryAfterMs ?? this.backoff(attempt);
      this.options.onRetry({ error, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  private async attempt(
    method: string,
    url: string,
    body: unknown,
  ): Promise<
    | { kind: 'answer'; status: number; json: unknown; retryAfterMs: number | null }
    | { kind: 'network'; timedOut: boolean; reason: string }
  > {
    try {
      const response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.account.apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const raw = await response.text();
      const retryAfterMs = retryAfterOf(response.headers.get('retry-after'));
      return { kind: 'answer', status: response.status, json: parseJson(raw), retryAfterMs };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { kind: 'network', timedOut, reason: networkReason(error) };
    }
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.options.retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
    return base / 2 + Math.random() * (base / 2);
  }
}

/** Retry-After in milliseconds, from seconds or an HTTP date (RFC 9110); null when absent or unreadable. */
export function retryAfterOf(header: string | null, now = Date.now()): number | null {
  const value = header?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function parsedAnswer<T>(
  answer: z.ZodType<T>,
  json: unknown,
  where: { method: string; path: string; status: number; attempts: number },
): T {
  const parsed = answer.safeParse(json);
  if (parsed.success) return parsed.data;
  const problem = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
  throw new EightByEightApiError(
    'unexpected_answer',
    `8x8 ${where.method} ${where.path} answered ${where.status}, but ${problem}`,
    { ...where, statusMessage: null, errorId: null, retryAfterMs: null },
  );
}

function networkError(
  outcome: { timedOut: boolean; reason: string },
  where: { method: string; path: string; attempts: number; timeoutMs: number },
): EightByEightApiError {
  const why = outcome.timedOut ? `no answer within ${where.timeoutMs} ms` : outcome.reason;
  const attempts = `${where.attempts} attempt${where.attempts === 1 ? '' : 's'}`;
  return new EightByEightApiError(
    outcome.timedOut ? 'timeout' : 'unreachable',
    `8x8 ${where.method} ${where.path} failed after ${attempts}: ${why}`,
    {
      method: where.method,
      path: where.path,
      status: null,
      statusMessage: null,
      errorId: null,
      attempts: where.attempts,
      retryAfterMs: null,
    },
  );
}

function errorOf(
  status: number,
  json: unknown,
  retryAfterMs: number | null,
  where: { method: string; path: string; attempts: number },
): EightByEightApiError {
  const body = errorAnswer.safeParse(json);
  const statusMessage = (body.success ? body.data.statusMessage : undefined) ?? null;
  const errorId = (body.success ? body.data.errorId : undefined) ?? null;
  const failure: EightByEightFailure =
    status === 401
      ? 'unauthorized'
      : status === 403
        ? 'forbidden'
        : status === 404
          ? 'not_found'
          : status === 429
            ? 'rate_limited'
            : status >= 500
              ? 'server_error'
              : 'rejected';
  const said = statusMessage ?? STATUS_TEXT[status] ?? (status >= 500 ? 'server error' : 'request refused');
  const hint =
    failure === 'unauthorized'
      ? ' (check EIGHTX8_API_KEY)'
      : failure === 'forbidden' || (failure === 'not_found' && where.path.endsWith('/webhooks'))
        ? ' (check EIGHTX8_SUBACCOUNT_ID and that the API key belongs to it)'
        : '';
  const retried = where.attempts > 1 ? ` after ${where.attempts} attempts` : '';
  const reference = errorId ? ` [errorId ${errorId}]` : '';
  const wait = retryAfterMs === null ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)} s)`;
  return new EightByEightApiError(
    failure,
    `8x8 answered ${status} to ${where.method} ${where.path}${retried}: ${said}${reference}${wait}${hint}`,
    { method: where.method, path: where.path, status, statusMessage, errorId, attempts: where.attempts, retryAfterMs },
  );
}

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

// fetch reports every network failure as `TypeError: fetch failed`; the cause says which.
function networkReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? error.message;
}
