import { z } from 'zod';
import { ConfigError, loadEightByEightAccount } from '../config';
import type { EightByEightAccount } from '../eightbyeight/apiClient';

// What the command line reads from the environment: only what its commands need, so that it runs anywhere the
// operator has the credentials, not only beside the servers.

const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? null : v));

const cliEnvironment = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  MASKLINE_API_KEY: optionalSecret,
  MASKLINE_WEBHOOK_SECRET: optionalSecret,
  // The same default as the servers (src/config.ts).
  MONGODB_URI: z
    .string()
    .default('mongodb://127.0.0.1:27017/maskline')
    .refine((v) => /^mongodb(\+srv)?:\/\//.test(v), 'must be a mongodb:// or mongodb+srv:// URI'),
});

export interface CliEnvironment {
  /** `http://127.0.0.1:$PORT`: where `npm start` serves the API. */
  defaultApiUrl: string;
  apiKey: string | null;
  webhookSecret: string | null;
  mongodbUri: string;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const parsed = cliEnvironment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return {
    defaultApiUrl: `http://127.0.0.1:${parsed.data.PORT}`,
    apiKey: parsed.data.MASKLINE_API_KEY,
    webhookSecret: parsed.data.MASKLINE_WEBHOOK_SECRET,
    mongodbUri: parsed.data.MONGODB_URI,
  };
}

/** The 8x8 subaccount, or an error that says which variables to set. */
export function requireEightByEightAccount(env: NodeJS.ProcessEnv = process.env): EightByEightAccount {
  const account = loadEightByEightAccount(env);
  if (!account) {
    throw new ConfigError(
      'no 8x8 credentials: set EIGHTX8_API_KEY and EIGHTX8_SUBACCOUNT_ID (and EIGHTX8_BASE_URL for the legacy host)',
    );
  }
  return account;
}
