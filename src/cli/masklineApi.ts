import type { Command } from 'commander';
import { readEnvironment } from './environment';

/** A failure the command line reports as one line, without a stack. */
export class CliError extends Error {
  override name = 'CliError';
}

/** An option's value as an http(s) URL, or a CliError that names the option. */
export function httpUrl(option: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`${option}: not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`${option}: not http(s): ${raw}`);
  return url;
}

export interface Answer {
  status: number;
  body: unknown;
}

const TIMEOUT_MS = 15_000;

/**
 * Maskline's own HTTP API as the command line uses it: the booking platform's routes with the API key, and the
 * webhook routes with the secret 8x8 would send.
 */
export class MasklineApi {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly credentials: { apiKey: string | null; webhookSecret: string | null },
  ) {
    httpUrl('--api-url', baseUrl);
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** A booking-platform request; an error answer becomes a CliError with Maskline's code and message. */
  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = this.credentials.apiKey
      ? { authorization: `Bearer ${this.credentials.apiKey}` }
      : {};
    const answer = await this.send(method, path, headers, body);
    if (answer.status >= 400) throw new CliError(describeError(answer, 'MASKLINE_API_KEY'));
    return answer.body;
  }

  /** A webhook as 8x8 sends it: the registered auth header verbatim in Authorization. */
  async webhook(path: string, body: unknown): Promise<Answer> {
    const secret = this.credentials.webhookSecret;
    const answer = await this.send('POST', `/webhooks/8x8${path}`, secret ? { authorization: secret } : {}, body);
    if (answer.status === 401 || answer.status === 403) {
      throw new CliError(describeError(answer, 'MASKLINE_WEBHOOK_SECRET'));
    }
    return answer;
  }

  private async send(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      // fetch says `fetch failed`; its cause says why (ECONNREFUSED, bad port, ...).
      const cause =
        error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
      const why = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      throw new CliError(`cannot reach Maskline at ${this.baseUrl} (${why}): is it running? (see --api-url)`);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      // Not JSON: keep the text for the error message.
    }
    return { status: response.status, body: parsed };
  }
}

function describeError(answer: Answer, credential: string): string {
  const error = (answer.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const said = error ? `${error.code}: ${error.message}` : JSON.stringify(answer.body ?? '');
  const hint = answer.status === 401 ? ` (check ${credential})` : '';
  return `Maskline answered ${answer.status} ${said}${hint}`;
}

/** `--api-url`, on every command that talks to a running Maskline. */
export function apiUrlOption(command: Command): Command {
  return command.option(
    '--api-url <url>',
    "Maskline's HTTP API (default: http://127.0.0.1:$PORT, $PORT 3000 unless set)",
  );
}

/** The API at `--api-url`, with MASKLINE_API_KEY and MASKLINE_WEBHOOK_SECRET from the environment. */
export function masklineApi(options: { apiUrl?: string }): MasklineApi {
  const env = readEnvironment();
  return new MasklineApi(options.apiUrl ?? env.defaultApiUrl, { apiKey: env.apiKey, webhookSecret: env.webhookSecret });
}
