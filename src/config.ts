import { isIP } from 'node:net';
import { z } from 'zod';
import { ADMISSION_DEFAULTS, type AdmissionLimits } from './bookings/admission';
import { DEFAULT_BASE_URL, type EightByEightAccount } from './eightbyeight/apiClient';
import { DEVELOPMENT_EVENTS_SECRET, isEventsUrl, type EventsConfig } from './events/eventTargets';
import { temporalConnectionOf, type TemporalConnectionOptions } from './temporal/connection';
import { DEVELOPMENT_KEY, KEY_BYTES, type EncryptionKey } from './temporal/payloadEncryption';
import type { OutOfSessionConfig } from './calls/outOfSession';
import { parseValidPhoneNumber } from './domain/phoneNumbers';

/**
 * The process configuration, read once from the environment and validated before anything starts.
 * A bad value stops the program with a message that names the variable.
 */
export interface Config {
  port: number;
  mongodbUri: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** TLS (mTLS), API key and gRPC metadata of the Temporal connection, from @temporalio/envconfig. */
  temporalConnection: TemporalConnectionOptions;
  temporalTaskQueue: string;
  /** Bearer token of the booking platform; null only in development mode (or in the worker, which serves no HTTP). */
  apiKey: string | null;
  /** Value 8x8 sends verbatim in the Authorization header of webhooks; null as apiKey. */
  webhookSecret: string | null;
  /**
   * MASKLINE_DEVELOPMENT_MODE=true, asked for by `npm start` only: a credential left unset is not asked for, the
   * codec endpoint is open without a token, and the public development key encrypts when no keys are set.
   */
  developmentMode: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** What an unknown caller hears before the call ends. */
  unknownCallerNotice: string;
  /** 8x8 text-to-speech voice for the notice. */
  voiceProfile: string;
  /** The call-action answer waits at most this long for the store before it answers with the notice. */
  callActionStoreTimeoutMs: number;
  /** The 8x8 subaccount whose numbers and webhooks Maskline manages; null when no credentials are set. */
  eightByEight: EightByEightAccount | null;
  /** How often the number sync schedule runs when 8x8 credentials are set (a duration such as `1h`). */
  numberSyncEvery: string;
  /** Addresses (IPs or CIDR ranges) webhooks may come from; empty allows any (8x8 publishes its own). */
  webhookAllowedSources: string[];
  /**
   * How many proxies in front of Maskline append to X-Forwarded-For: the client address is the entry this many
   * from the right (what the farthest of them saw). 0: X-Forwarded-For is ignored.
   */
  trustedProxies: number;
  /** How often the pairing reconciliation schedule runs (a duration such as `5m`). */
  reconcileEvery: string;
  /** Keys of Temporal payload encryption, newest (the one that encrypts) first. */
  encryptionKeys: EncryptionKey[];
  /** True when MASKLINE_ENCRYPTION_KEYS is unset in development mode and the public development key is used. */
  developmentEncryptionKey: boolean;
  /** Bearer token of the codec endpoint (`/codec`); null: open in development mode, closed otherwise. */
  codecToken: string | null;
  /** Browser origins (the Temporal UI) allowed to call the codec endpoint. */
  codecCorsOrigins: string[];
  /** Call sessions and call events older than this many days are deleted. */
  callRecordRetentionDays: number;
  /** How many booking creations one HTTP server runs at once, and how many wait (and how long) past that. */
  creationAdmission: AdmissionLimits;
  /** Booking events: where they go, how they are signed, whether they name numbers (src/events/). */
  events: EventsConfig;
  /** Calls no live booking routes: the policy, the support number, `ask`, the late-caller window. */
  outOfSession: OutOfSessionConfig;
  /**
   * Bearer token of `GET /metrics` on the HTTP server; null: the route is open in development mode and answers
   * 404 otherwise.
   */
  /**
   * MASKLINE_NUMBER_FALLBACK: `pin` gives a booking for which no number is free a number of the PIN set and a PIN,
   * instead of `no_number_available` (a booking's `fallback` wins). Default `none`.
   */
  numberFallback: 'none' | 'pin';
  metricsToken: string | null;
  /** The worker's metrics and liveness port (`/metrics`, `/healthz`); null: the worker serves no HTTP. */
  workerMetricsPort: number | null;
  /** False: the call-action path records no metrics (MASKLINE_METRICS_ENABLED=false, for the overhead benchmark). */
  callActionMetrics: boolean;
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()));

const eventSecrets = z
  .string()
  .default('')
  .transform((list) =>
    list
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  )
  .refine(
    (secrets) => secrets.every((secret) => /^whsec_[A-Za-z0-9+/]{22,}={0,2}$/.test(secret)),
    'must be a comma-separated list of whsec_<base64> secrets (at least 16 bytes each), newest first',
  );

const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? null : v))
  .refine((v) => v === null || v.length >= 16, 'must be at least 16 characters');

function isAddressOrRange(entry: string): boolean {
  const [address, prefix] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

/** A duration as Temporal reads it: `30s`, `5m`, `1h`, `1d`. */
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 30s, 5m, 1h');

/** `keyId:base64key,...`, newest first; each key 32 bytes. Key material never appears in an error message. */
const encryptionKeys = z
  .string()
  .optional()
  .transform((value, ctx): EncryptionKey[] | null => {
    if (value === undefined || value.trim() === '') return null;
    const keys: EncryptionKey[] = [];
    for (const [index, entry] of value.split(',').entries()) {
      const match = /^([A-Za-z0-9._-]{1,64}):([A-Za-z0-9+/]+={0,2})$/.exec(entry.trim());
      const key = match ? Buffer.from(match[2] ?? '', 'base64') : null;
      if (!match || !key || key.length !== KEY_BYTES) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${index + 1} must be keyId:base64 of a ${KEY_BYTES}-byte key (e.g. k1:$(openssl rand -base64 32))`,
        });
        return z.NEVER;
      }
      const id = match[1] ?? '';
      if (keys.some((known) => known.id === id)) {
        ctx.addIssue({ code: 'custom', message: `key id ${id} is listed twice` });
        return z.NEVER;
      }
      keys.push({ id, key });
    }
    return keys;
  });

/** `a, b,,c` → `['a', 'b', 'c']`. */
function commaSeparated(list: string): string[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

const originList = z
  .string()
  .transform(commaSeparated)
  .pipe(
    z.array(
      z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin must be scheme://host[:port], e.g. http://localhost:8233'),
    ),
  );

const environmentSchema = z.object({
  MASKLINE_DEVELOPMENT_MODE: z.enum(['true', 'false', '']).default('false'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  MONGODB_URI: z
    .string()
    .default('mongodb://127.0.0.1:27017/maskline')
    .refine((v) => /^mongodb(\+srv)?:\/\//.test(v), 'must be a mongodb:// or mongodb+srv:// URI'),
  TEMPORAL_ADDRESS: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^[\w.-]+:\d+$/.test(v), 'must be host:port'),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('maskline-bookings'),
  MASKLINE_API_KEY: optionalSecret,
  MASKLINE_WEBHOOK_SECRET: optionalSecret,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MASKLINE_UNKNOWN_CALLER_NOTICE: z
    .string()
    .min(1)
    .max(3000)
    .default('Sorry, this number is not linked to an active booking. Goodbye.'),
  MASKLINE_VOICE_PROFILE: z.string().min(1).default('en-US-ZiraRUS'),
  MASKLINE_CALL_ACTION_TIMEOUT_MS: z.coerce.number().int().min(50).max(5000).default(1500),
  MASKLINE_NUMBER_SYNC_INTERVAL: duration
    .default('1h')
    .refine((every) => durationMs(every) >= 60_000, 'must be at least 1m: 8x8 is asked for every number each time'),
  MASKLINE_RECONCILE_INTERVAL: duration.default('5m'),
  MASKLINE_WEBHOOK_ALLOWED_SOURCES: z
    .string()
    .default('')
    .transform(commaSeparated)
    .refine(
      (entries) => entries.every(isAddressOrRange),
      'must be a comma-separated list of IP addresses or CIDR ranges',
    ),
  MASKLINE_TRUST_PROXY: z
    .string()
    .default('false')
    .refine(
      (value) => value !== 'true',
      'true trusted the whole X-Forwarded-For chain, whose first entries the client writes; set the number of ' +
        'proxies in front of Maskline that append to it (1, 2, ...), or false',
    )
    .refine((value) => /^(false|\d)$/.test(value), 'must be false or the number of proxies in front (0 to 9)')
    .transform((value) => (value === 'false' ? 0 : Number(value))),
  MASKLINE_ENCRYPTION_KEYS: encryptionKeys,
  MASKLINE_CODEC_TOKEN: optionalSecret,
  MASKLINE_CODEC_CORS_ORIGINS: originList.default(['http://127.0.0.1:8233', 'http://localhost:8233']),
  MASKLINE_CALL_RECORD_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  MASKLINE_CREATIONS_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(ADMISSION_DEFAULTS.inFlight),
  MASKLINE_CREATIONS_QUEUED: z.coerce.number().int().min(0).max(100_000).default(ADMISSION_DEFAULTS.queued),
  MASKLINE_CREATION_QUEUE_WAIT_MS: z.coerce.number().int().min(0).max(5_000).default(ADMISSION_DEFAULTS.queueWaitMs),
  MASKLINE_CREATION_LATENCY_TARGET_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(ADMISSION_DEFAULTS.latencyTargetMs),
  MASKLINE_CREATIONS_MIN_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(ADMISSION_DEFAULTS.minInFlight),
  MASKLINE_EVENTS_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? null : v.trim())),
  MASKLINE_EVENTS_SECRETS: eventSecrets,
  MASKLINE_EVENTS_INCLUDE_NUMBERS: z.enum(['true', 'false', '']).default('false'),
  MASKLINE_PLATFORM_HOSTS: z
    .string()
    .default('')
    .transform((list) => commaSeparated(list).map((host) => host.toLowerCase()))
    .refine(
      (hosts) => hosts.every((host) => /^[a-z0-9.-]+$|^\[[0-9a-f:]+\]$/.test(host)),
      'must be a comma-separated list of host names',
    ),
  MASKLINE_OUT_OF_SESSION_POLICY: z.enum(['notice', 'forward', 'ask']).default('notice'),
  MASKLINE_SUPPORT_NUMBER: optionalText.refine(
    (number) => number === null || parseValidPhoneNumber(number) !== null,
    'must be a valid international phone number',
  ),
  MASKLINE_ASK_URL: optionalText,
  MASKLINE_ASK_TIMEOUT_MS: z.coerce.number().int().min(100).max(5000).default(1500),
  MASKLINE_ASK_FALLBACK: z.enum(['notice', 'forward']).default('notice'),
  MASKLINE_ENDED_BOOKING_WINDOW: z
    .string()
    .default('0')
    .refine(
      (value) => value === '0' || value === 'off' || /^\d+(s|m|h|d)$/.test(value),
      'must be 0 (off) or a duration such as 30m, 2h',
    )
    .transform((value) => (value === '0' || value === 'off' ? 0 : durationMs(value) / 1000))
    .refine((seconds) => seconds <= 30 * 86_400, 'must be at most 30d'),
  MASKLINE_ENDED_BOOKING_ROUTE: z.enum(['other_party', 'support', 'ask', 'notice']).default('other_party'),
  MASKLINE_NUMBER_FALLBACK: z.enum(['none', 'pin']).default('none'),
  MASKLINE_METRICS_TOKEN: optionalSecret,
  MASKLINE_METRICS_ENABLED: z.enum(['true', 'false', '']).default('true'),
  MASKLINE_WORKER_METRICS_PORT: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()))
    .refine((v) => v === null || (/^\d+$/.test(v) && Number(v) <= 65535), 'must be a port number (0 to 65535)')
    .transform((v) => (v === null ? null : Number(v))),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function durationMs(every: string): number {
  const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(every) ?? [];
  const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit ?? 'ms'] ?? 1;
  return Number(amount) * unitMs;
}

// The API key goes out in a header: plain http only to a fake of 8x8 on this machine.
function isApiBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    return url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
  } catch {
    return false;
  }
}

const eightByEightSchema = z.object({
  EIGHTX8_API_KEY: optionalText,
  EIGHTX8_SUBACCOUNT_ID: optionalText.refine(
    (id) => id === null || /^[A-Za-z0-9\-._&]{3,50}$/.test(id),
    'must be an 8x8 subaccount id: 3 to 50 letters, digits or - . _ &',
  ),
  EIGHTX8_BASE_URL: z
    .string()
    .default(DEFAULT_BASE_URL)
    .refine(isApiBaseUrl, 'must be an https:// URL such as https://voice.8x8.com (http:// only on loopback)'),
});

/**
 * The 8x8 subaccount from EIGHTX8_API_KEY, EIGHTX8_SUBACCOUNT_ID and EIGHTX8_BASE_URL: null when neither the key
 * nor the subaccount is set. Read on its own by the command line, which needs no other server setting.
 */
export function loadEightByEightAccount(env: NodeJS.ProcessEnv = process.env): EightByEightAccount | null {
  const parsed = eightByEightSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const { EIGHTX8_API_KEY: apiKey, EIGHTX8_SUBACCOUNT_ID: subAccountId, EIGHTX8_BASE_URL: baseUrl } = parsed.data;
  if (apiKey === null && subAccountId === null) return null;
  if (apiKey === null || subAccountId === null) {
    const missing = apiKey === null ? 'EIGHTX8_API_KEY' : 'EIGHTX8_SUBACCOUNT_ID';
    throw new ConfigError(`invalid configuration: ${missing}: required with the other 8x8 credential`);
  }
  return { apiKey, subAccountId, baseUrl: baseUrl.replace(/\/+$/, '') };
}

/** The process a configuration is for: the HTTP server, or the worker. */
export type ProcessRole = 'http' | 'worker';

/** What each process cannot run in production without. The worker serves no HTTP, so it needs neither secret. */
const REQUIRED_IN_PRODUCTION: Record<ProcessRole, [variable: string, hint: string][]> = {
  http: [
    ['MASKLINE_API_KEY', "the booking platform's bearer token, at least 16 characters"],
    ['MASKLINE_WEBHOOK_SECRET', 'the Authorization header 8x8 sends, at least 16 characters'],
    ['MASKLINE_ENCRYPTION_KEYS', 'e.g. k1:$(openssl rand -base64 32)'],
  ],
  worker: [['MASKLINE_ENCRYPTION_KEYS', 'e.g. k1:$(openssl rand -base64 32)']],
};

/**
 * The configuration of the HTTP server or the worker. Production or development, nothing in between: without
 * MASKLINE_DEVELOPMENT_MODE=true every variable production needs must be set, and development mode is refused
 * with NODE_ENV=production. Every problem found (bad values, missing variables) is named in one ConfigError.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, role: ProcessRole = 'http'): Config {
  const parsed = environmentSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const developmentMode = env.MASKLINE_DEVELOPMENT_MODE === 'true';
  if (developmentMode && env.NODE_ENV === 'production') {
    problems.push('MASKLINE_DEVELOPMENT_MODE: true is refused with NODE_ENV=production');
  }
  if (!developmentMode) {
    const missing = REQUIRED_IN_PRODUCTION[role].filter(([variable]) => (env[variable] ?? '').trim() === '');
    problems.push(...missing.map(([variable, hint]) => `${variable}: required in production (${hint})`));
    if (missing.length > 0) {
      problems.push("or, on a developer's machine only, MASKLINE_DEVELOPMENT_MODE=true runs without them");
    }
  }
  const eventsUrl = parsed.success ? parsed.data.MASKLINE_EVENTS_URL : null;
  if (eventsUrl !== null && !isEventsUrl(eventsUrl, developmentMode)) {
    problems.push('MASKLINE_EVENTS_URL: must be an https:// URL (http:// only on loopback or in development mode)');
  }
  if (eventsUrl !== null && !developmentMode && parsed.success && parsed.data.MASKLINE_EVENTS_SECRETS.length === 0) {
    problems.push('MASKLINE_EVENTS_SECRETS: required with MASKLINE_EVENTS_URL (whsec_<base64>, newest first)');
  }
  if (parsed.success) problems.push(...outOfSessionProblems(parsed.data, developmentMode));
  let temporal: ReturnType<typeof temporalConnectionOf> | null = null;
  try {
    temporal = temporalConnectionOf(env);
  } catch (error) {
    // A profile file that does not parse, a certificate path that cannot be read: named, with the SDK's words.
    problems.push(`Temporal connection (TEMPORAL_* / TEMPORAL_CONFIG_FILE): ${(error as Error).message}`);
  }
  if (!parsed.success || problems.length > 0 || temporal === null) {
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    mongodbUri: e.MONGODB_URI,
    temporalAddress: temporal.connection.address,
    temporalNamespace: e.TEMPORAL_NAMESPACE ?? temporal.namespace ?? 'default',
    temporalConnection: temporal.connection,
    temporalTaskQueue: e.TEMPORAL_TASK_QUEUE,
    apiKey: e.MASKLINE_API_KEY,
    webhookSecret: e.MASKLINE_WEBHOOK_SECRET,
    developmentMode,
    logLevel: e.LOG_LEVEL,
    unknownCallerNotice: e.MASKLINE_UNKNOWN_CALLER_NOTICE,
    voiceProfile: e.MASKLINE_VOICE_PROFILE,
    callActionStoreTimeoutMs: e.MASKLINE_CALL_ACTION_TIMEOUT_MS,
    eightByEight: loadEightByEightAccount(env),
    numberSyncEvery: e.MASKLINE_NUMBER_SYNC_INTERVAL,
    reconcileEvery: e.MASKLINE_RECONCILE_INTERVAL,
    webhookAllowedSources: e.MASKLINE_WEBHOOK_ALLOWED_SOURCES,
    trustedProxies: e.MASKLINE_TRUST_PROXY,
    encryptionKeys: e.MASKLINE_ENCRYPTION_KEYS ?? [DEVELOPMENT_KEY],
    developmentEncryptionKey: e.MASKLINE_ENCRYPTION_KEYS === null,
    codecToken: e.MASKLINE_CODEC_TOKEN,
    codecCorsOrigins: e.MASKLINE_CODEC_CORS_ORIGINS,
    callRecordRetentionDays: e.MASKLINE_CALL_RECORD_RETENTION_DAYS,
    creationAdmission: {
      inFlight: e.MASKLINE_CREATIONS_IN_FLIGHT,
      queued: e.MASKLINE_CREATIONS_QUEUED,
      queueWaitMs: e.MASKLINE_CREATION_QUEUE_WAIT_MS,
      latencyTargetMs: e.MASKLINE_CREATION_LATENCY_TARGET_MS,
      minInFlight: Math.min(e.MASKLINE_CREATIONS_MIN_IN_FLIGHT, e.MASKLINE_CREATIONS_IN_FLIGHT),
    },
    events: {
      url: e.MASKLINE_EVENTS_URL,
      secrets:
        e.MASKLINE_EVENTS_SECRETS.length > 0 || !developmentMode
          ? e.MASKLINE_EVENTS_SECRETS
          : [DEVELOPMENT_EVENTS_SECRET],
      developmentSecret: e.MASKLINE_EVENTS_SECRETS.length === 0 && developmentMode,
      includeNumbers: e.MASKLINE_EVENTS_INCLUDE_NUMBERS === 'true',
      allowPlainHttp: developmentMode,
      platformHosts: e.MASKLINE_PLATFORM_HOSTS,
    },
    numberFallback: e.MASKLINE_NUMBER_FALLBACK,
    outOfSession: {
      policy: e.MASKLINE_OUT_OF_SESSION_POLICY,
      supportNumber: e.MASKLINE_SUPPORT_NUMBER === null ? null : parseValidPhoneNumber(e.MASKLINE_SUPPORT_NUMBER)!.e164,
      askUrl: e.MASKLINE_ASK_URL,
      askTimeoutMs: e.MASKLINE_ASK_TIMEOUT_MS,
      askFallback: e.MASKLINE_ASK_FALLBACK,
      endedBookingWindowSeconds: e.MASKLINE_ENDED_BOOKING_WINDOW,
      endedBookingRoute: e.MASKLINE_ENDED_BOOKING_ROUTE,
    },
    metricsToken: e.MASKLINE_METRICS_TOKEN,
    workerMetricsPort: e.MASKLINE_WORKER_METRICS_PORT,
    callActionMetrics: e.MASKLINE_METRICS_ENABLED !== 'false',
  };
}

/** The out-of-session settings that need one another: a policy that forwards needs a number, `ask` a URL. */
function outOfSessionProblems(e: z.infer<typeof environmentSchema>, developmentMode: boolean): string[] {
  const problems: string[] = [];
  const forwards =
    e.MASKLINE_OUT_OF_SESSION_POLICY === 'forward' ||
    (e.MASKLINE_OUT_OF_SESSION_POLICY === 'ask' && e.MASKLINE_ASK_FALLBACK === 'forward');
  if (forwards && e.MASKLINE_SUPPORT_NUMBER === null) {
    problems.push('MASKLINE_SUPPORT_NUMBER: required when out-of-session calls are forwarded');
  }
  if (e.MASKLINE_OUT_OF_SESSION_POLICY === 'ask' && e.MASKLINE_ASK_URL === null) {
    problems.push('MASKLINE_ASK_URL: required with MASKLINE_OUT_OF_SESSION_POLICY=ask');
  }
  if (e.MASKLINE_ASK_URL !== null && !isEventsUrl(e.MASKLINE_ASK_URL, developmentMode, e.MASKLINE_PLATFORM_HOSTS)) {
    problems.push(
      'MASKLINE_ASK_URL: must be an https:// URL (http:// only on loopback or in development mode) on a host of ' +
        'MASKLINE_PLATFORM_HOSTS when that is set',
    );
  }
  if (e.MASKLINE_EVENTS_URL !== null && !isEventsUrl(e.MASKLINE_EVENTS_URL, true, e.MASKLINE_PLATFORM_HOSTS)) {
    problems.push('MASKLINE_EVENTS_URL: its host is not in MASKLINE_PLATFORM_HOSTS');
  }
  return problems;
}
