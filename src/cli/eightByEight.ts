import { Command } from 'commander';
import {
  EightByEightApiClient,
  WEBHOOK_TYPES,
  type RecordingPushConfig,
  type RegisteredWebhook,
  type WebhookRegistration,
  type WebhookType,
} from '../eightbyeight/apiClient';
import { toE164 } from '../domain/phoneNumbers';
import { readEnvironment, requireEightByEightAccount } from './environment';
import { CliError, httpUrl } from './masklineApi';
import { print, printTable } from './output';

/** Where each webhook type goes on Maskline; VNU uses the one URL that takes every type. */
export const WEBHOOK_PATHS: Record<WebhookType, string> = {
  VCA: '/webhooks/8x8/call-action',
  VCS: '/webhooks/8x8/call-status',
  VSS: '/webhooks/8x8/session-summary',
  VRU: '/webhooks/8x8/call-recording-status',
  VNU: '/webhooks/8x8',
};

/** Read from the environment, never the command line, where other users of the machine could see it. */
const RECORDING_PASSWORD_VARIABLE = 'EIGHTX8_RECORDING_PUSH_PASSWORD';

/**
 * The 8x8 client of the command line, which runs outside Temporal and so retries for itself: three attempts for
 * 5xx, 429 and network failures, after 8x8's Retry-After when it is at most a minute (longer, the command stops
 * at once and the error says how long 8x8 asked for), saying on stderr why it waits.
 */
export function eightByEightClient(): EightByEightApiClient {
  return new EightByEightApiClient(requireEightByEightAccount(), {
    maxAttempts: 3,
    maxRetryAfterMs: 60_000,
    onRetry: ({ error, delayMs }) => {
      const wait = delayMs < 1000 ? `${Math.round(delayMs)} ms` : `${Math.ceil(delayMs / 1000)} s`;
      process.stderr.write(`maskline: ${error.message}: trying again in ${wait}\n`);
    },
  });
}

/** `maskline 8x8 ...`: the 8x8 subaccount itself, through 8x8's API. */
export function eightByEightCommand(): Command {
  const command = new Command('8x8').description(
    'the 8x8 subaccount (EIGHTX8_API_KEY, EIGHTX8_SUBACCOUNT_ID, EIGHTX8_BASE_URL): webhooks and virtual numbers',
  );
  command.addCommand(webhooksCommand());
  command.addCommand(numbersCommand());
  command.addCommand(recordingPushConfigCommand());
  return command;
}

function webhooksCommand(): Command {
  const webhooks = new Command('webhooks').description('the URLs 8x8 posts call events to (one per type)');

  webhooks
    .command('register')
    .description(
      "point 8x8's call action (VCA), call status (VCS), session summary (VSS), recording uploaded (VRU) and " +
        'virtual number (VNU) webhooks at this Maskline, with MASKLINE_WEBHOOK_SECRET as their Authorization header',
    )
    .requiredOption(
      '--public-url <url>',
      'the https:// address 8x8 reaches Maskline at, e.g. https://maskline.example.com',
    )
    .action(async (options: { publicUrl: string }) => {
      const base = publicBaseUrl(options.publicUrl);
      const secret = readEnvironment().webhookSecret;
      if (!secret) {
        throw new CliError(
          'MASKLINE_WEBHOOK_SECRET is not set: 8x8 sends it back as the Authorization header of every webhook, ' +
            'and Maskline refuses webhooks without it outside development mode',
        );
      }
      const api = eightByEightClient();
      let registered: RegisteredWebhook[] = [];
      for (const [type, path] of Object.entries(WEBHOOK_PATHS) as [WebhookType, string][]) {
        const registration: WebhookRegistration = {
          type,
          url: `${base}${path}`,
          httpAuthHeader: secret,
          enabled: true,
        };
        registered = await api.registerWebhook(registration);
        print(`registered ${type}  ${registration.url}`);
      }
      print();
      print(`Webhooks of 8x8 subaccount ${api.account.subAccountId} now:`);
      printWebhooks(registered);
    });

  webhooks
    .command('list')
    .description('the webhooks registered on the subaccount')
    .action(async () => {
      printWebhooks(await eightByEightClient().listWebhooks());
    });

  webhooks
    .command('delete')
    .description(
      'remove the webhook of one type (8x8 then stops sending those events). VNU is missing from the delete ' +
        "endpoint's type list in 8x8's OpenAPI file; 8x8 may refuse it",
    )
    .argument('<type>', `one of ${WEBHOOK_TYPES.join(', ')}`)
    .action(async (raw: string) => {
      const type = raw.toUpperCase();
      if (!(WEBHOOK_TYPES as readonly string[]).includes(type)) {
        throw new CliError(`type: must be one of ${WEBHOOK_TYPES.join(', ')} (got ${raw})`);
      }
      await eightByEightClient().deleteWebhook(type as WebhookType);
      print(`deleted the ${type} webhook`);
    });

  return webhooks;
}

function numbersCommand(): Command {
  const numbers = new Command('numbers').description("the subaccount's virtual numbers as 8x8 reports them");

  numbers
    .command('list')
    .description('every virtual number with its operational status and health')
    .action(async () => {
      const listing = await eightByEightClient().listNumbers();
      printTable(
        ['NUMBER', 'STATUS', 'HEALTHY', 'COUNTRY', 'REFERENCE'],
        listing.numbers.map((n) => [
          n.msisdn,
          n.operationalStatus ?? '-',
          n.health?.isHealthy === undefined || n.health.isHealthy === null ? '-' : String(n.health.isHealthy),
          n.countryCode ?? '-',
          n.referenceId ?? '-',
        ]),
      );
      if (listing.totalNumbers === null) {
        print(`8x8 gave no total: the ${listing.numbers.length} listed may not be all of the subaccount's numbers`);
      } else if (listing.numbers.length < listing.totalNumbers) {
        print(`8x8 says the subaccount has ${listing.totalNumbers} numbers; it listed ${listing.numbers.length}`);
      }
    });

  numbers
    .command('show')
    .description('one virtual number, as 8x8 knows it')
    .argument('<number>', 'the virtual number, e.g. +6560000001')
    .action(async (raw: string) => {
      const number = toE164(raw);
      if (!number) throw new CliError(`number: not an international phone number: ${raw}`);
      const found = await eightByEightClient().getNumber(number);
      if (!found) throw new CliError(`8x8 does not know ${number} on this subaccount`);
      print(JSON.stringify(found, null, 2));
    });

  return numbers;
}

function recordingPushConfigCommand(): Command {
  const config = new Command('recording-push-config').description(
    'where 8x8 pushes call recordings (an S3 bucket or an SFTP server); bookings made with `record: true` are ' +
      'recorded only once it is set',
  );

  config
    .command('show')
    .description('the recording push configuration of the subaccount (never its password)')
    .action(async () => {
      const current = await eightByEightClient().getRecordingPushConfig();
      if (!current) throw new CliError('no recording push configuration is set on this subaccount');
      printRecordingPushConfig(current);
    });

  config
    .command('set')
    .description(`set (or replace) it; the password is read from ${RECORDING_PASSWORD_VARIABLE}`)
    .requiredOption('--protocol <protocol>', 'S3 or SFTP')
    .requiredOption('--host <host>', "the SFTP server's public IP, or the S3 bucket's AWS region (e.g. ap-southeast-2)")
    .requiredOption('--port <port>', 'the port of the endpoint')
    .requiredOption('--username <username>', 'the user (for S3, the access key id) 8x8 pushes as')
    .requiredOption('--path <path>', 'the remote directory, e.g. /recordings/')
    .action(async (options: { protocol: string; host: string; port: string; username: string; path: string }) => {
      const protocol = options.protocol.toUpperCase();
      if (protocol !== 'S3' && protocol !== 'SFTP')
        throw new CliError(`--protocol: S3 or SFTP (got ${options.protocol})`);
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new CliError(`--port: not a port: ${options.port}`);
      const password = process.env[RECORDING_PASSWORD_VARIABLE];
      if (!password) {
        throw new CliError(
          `${RECORDING_PASSWORD_VARIABLE} is not set: the password (for S3, the secret key) 8x8 pushes with`,
        );
      }
      const api = eightByEightClient();
      const saved = await api.setRecordingPushConfig({ ...options, protocol, port, password });
      print(`recording push configuration of 8x8 subaccount ${api.account.subAccountId} set:`);
      printRecordingPushConfig(saved);
    });

  config
    .command('delete')
    .description('remove it: 8x8 then records no calls, whatever the bookings ask')
    .action(async () => {
      await eightByEightClient().deleteRecordingPushConfig();
      print('deleted the recording push configuration');
    });

  return config;
}

function printRecordingPushConfig(config: RecordingPushConfig): void {
  printTable(
    ['PROTOCOL', 'HOST', 'PORT', 'USERNAME', 'PASSWORD', 'PATH'],
    [
      [
        config.protocol ?? '-',
        config.host ?? '-',
        config.port === null ? '-' : String(config.port),
        config.username ?? '-',
        config.passwordSet ? 'set' : 'none',
        config.path ?? '-',
      ],
    ],
  );
}

function printWebhooks(webhooks: RegisteredWebhook[]): void {
  printTable(
    ['TYPE', 'ENABLED', 'AUTH HEADER', 'URL'],
    webhooks.map((w) => [w.type, w.enabled ? 'yes' : 'no', w.httpAuthHeaderAvailable ? 'set' : 'none', w.url]),
  );
}

function publicBaseUrl(raw: string): string {
  const url = httpUrl('--public-url', raw);
  if (url.search || url.hash) throw new CliError('--public-url: no query or fragment, just scheme://host[/prefix]');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
