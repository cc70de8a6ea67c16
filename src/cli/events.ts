import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Command, Option } from 'commander';
import { Webhook } from 'standardwebhooks';
import { DEVELOPMENT_EVENTS_SECRET } from '../events/eventTargets';
import { CliError } from './masklineApi';
import { print } from './output';

const MAX_BODY_BYTES = 256 * 1024;

/** `maskline events listen`: a receiver of booking events for trying them locally. */
export function eventsCommand(): Command {
  const events = new Command('events').description("booking events as the platform's receiver gets them");
  events
    .command('listen')
    .description(
      'receive booking events on this machine: print each as it arrives, with whether its signature verifies ' +
        '(point MASKLINE_EVENTS_URL, or a booking’s callbackUrl, at the address it prints)',
    )
    .addOption(new Option('--port <port>', 'the port to listen on (0: any free one)').default('4000'))
    .addOption(new Option('--host <host>', 'the address to listen on').default('127.0.0.1'))
    .addOption(
      new Option(
        '--secrets <secrets>',
        'whsec_… secrets to verify with, comma-separated (default: MASKLINE_EVENTS_SECRETS, else the development one)',
      ),
    )
    .action(async (options: { port: string; host: string; secrets?: string }) => {
      const listener = await listen(options);
      print(`listening on ${listener.url}  (MASKLINE_EVENTS_URL=${listener.url})`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await listener.close();
    });
  return events;
}

async function listen(options: { port: string; host: string; secrets?: string }) {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port: not a port: ${options.port}`);
  const list = (options.secrets ?? process.env.MASKLINE_EVENTS_SECRETS ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean);
  let verifiers: Webhook[];
  try {
    verifiers = (list.length > 0 ? list : [DEVELOPMENT_EVENTS_SECRET]).map((secret) => new Webhook(secret));
  } catch {
    throw new CliError('--secrets: each secret must be whsec_ followed by base64');
  }
  const seen = new Set<string>();

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]),
      ) as Record<string, string>;
      const verified = verifiers.some((verifier) => {
        try {
          verifier.verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      const id = headers['webhook-id'] ?? '-';
      if (!verified) {
        print(`✗ ${id}  signature does not verify: answered 401`);
        response.writeHead(401).end();
        return;
      }
      const repeat = seen.has(id);
      seen.add(id);
      const event = JSON.parse(body) as { type?: string; bookingId?: string; timestamp?: string; data?: unknown };
      print(
        `✓ ${String(event.timestamp)}  ${String(event.type).padEnd(18)} booking ${String(event.bookingId)}  ${id}` +
          `${repeat ? '  (repeat)' : ''}`,
      );
      print(`    ${JSON.stringify(event.data)}`);
      response.writeHead(204).end();
    });
  });
  server.listen(port, options.host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
