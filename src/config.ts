import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The process configuration, read once from the environment and validated before anything starts.
 * A bad value stops the program with a message that names the variable.
 */
export interface Config {
  port: number;
  mongodbUri: string;
  temporalAddress: string;
  temporalNamespace: string;
  temporalTaskQueue: string;
  /** Bearer token of the booking platform; null in development mode. */
  apiKey: string | null;
  /** Value 8x8 sends verbatim in the Authorization header of webhooks; null in development mode. */
  webhookSecret: string | null;
  /** True when either secret is unset: the HTTP API and webhooks accept requests without credentials. */
  developmentMode: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** What an unknown caller hears before the call ends. */
  unknownCallerNotice: string;
  /** 8x8 text-to-speech voice for the notice. */
  voiceProfile: string;
  /** The call-action answer waits at most this long for the store before it answers with the notice. */
  callActionStoreTimeoutMs: number;
  /** Addresses (IPs or CIDR ranges) webhooks may come from; empty allows any (8x8 publishes its own). */
  webhookAllowedSources: string[];
  /** Whether X-Forwarded-For is trusted for the client address (only behind a proxy that sets it). */
  trustProxy: boolean;
  /** How often the pairing reconciliation schedule runs (a duration such as `5m`). */
  reconcileEvery: string;
}

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

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  MONGODB_URI: z
    .string()
    .default('mongodb://127.0.0.1:27017/maskline')
    .refine((v) => /^mongodb(\+srv)?:\/\//.test(v), 'must be a mongodb:// or mongodb+srv:// URI'),
  TEMPORAL_ADDRESS: z
    .string()
    .default('127.0.0.1:7233')
    .refine((v) => /^[\w.-]+:\d+$/.test(v), 'must be host:port'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
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
  MASKLINE_RECONCILE_INTERVAL: duration.default('5m'),
  MASKLINE_WEBHOOK_ALLOWED_SOURCES: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((entry) => entry.trim()).filter(Boolean))
    .refine((entries) => entries.every(isAddressOrRange), 'must be a comma-separated list of IP addresses or CIDR ranges'),
  MASKLINE_TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((flag) => flag === 'true'),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    mongodbUri: e.MONGODB_URI,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    temporalTaskQueue: e.TEMPORAL_TASK_QUEUE,
    apiKey: e.MASKLINE_API_KEY,
    webhookSecret: e.MASKLINE_WEBHOOK_SECRET,
    developmentMode: e.MASKLINE_API_KEY === null || e.MASKLINE_WEBHOOK_SECRET === null,
    logLevel: e.LOG_LEVEL,
    unknownCallerNotice: e.MASKLINE_UNKNOWN_CALLER_NOTICE,
    voiceProfile: e.MASKLINE_VOICE_PROFILE,
    callActionStoreTimeoutMs: e.MASKLINE_CALL_ACTION_TIMEOUT_MS,
    reconcileEvery: e.MASKLINE_RECONCILE_INTERVAL,
    webhookAllowedSources: e.MASKLINE_WEBHOOK_ALLOWED_SOURCES,
    trustProxy: e.MASKLINE_TRUST_PROXY,
  };
}
