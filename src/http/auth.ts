import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { HttpError } from './errors';

/** Compares secrets in constant time; hashing first makes the lengths equal so length does not leak either. */
export function secretsMatch(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The booking platform's credential: `Authorization: Bearer <MASKLINE_API_KEY>`. Unset, the API is open in
 * development mode only; anywhere else an unset key closes it (loadConfig refuses that start anyway).
 */
export function requireApiKey(apiKey: string | null, developmentMode: boolean) {
  if (apiKey === null && developmentMode) return async (_ctx: Context, next: Next) => next();
  return async (ctx: Context, next: Next) => {
    const token = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
    if (apiKey === null || !secretsMatch(token, apiKey)) {
      const why = apiKey === null ? 'the API is closed: MASKLINE_API_KEY is unset' : 'missing or wrong API key';
      throw new HttpError(401, 'unauthorized', why, { 'WWW-Authenticate': 'Bearer' });
    }
    await next();
  };
}

/**
 * The codec endpoint's credential: `Authorization: Bearer <MASKLINE_CODEC_TOKEN>`. It decrypts Temporal payloads,
 * so without a token it is open only in development mode; in production an unset token closes it.
 */
export function requireCodecToken(token: string | null, developmentMode: boolean) {
  if (token === null && developmentMode) return async (_ctx: Context, next: Next) => next();
  return async (ctx: Context, next: Next) => {
    const given = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
    if (token === null || !secretsMatch(given, token)) {
      const why =
        token === null ? 'the codec endpoint is closed: MASKLINE_CODEC_TOKEN is unset' : 'missing or wrong codec token';
      throw new HttpError(401, 'unauthorized', why, { 'WWW-Authenticate': 'Bearer' });
    }
    await next();
  };
}

/**
 * The metrics scraper's credential: `Authorization: Bearer <MASKLINE_METRICS_TOKEN>`. Unset, `/metrics` is open in
 * development mode and, anywhere else, answers as if there were no such route: a deployment that set no token
 * wanted no metrics on this port (the worker's metrics port needs none).
 */
export function requireMetricsToken(token: string | null, developmentMode: boolean) {
  if (token === null && developmentMode) return async (_ctx: Context, next: Next) => next();
  return async (ctx: Context, next: Next) => {
    if (token === null) throw new HttpError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
    const given = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
    if (!secretsMatch(given, token)) {
      throw new HttpError(401, 'unauthorized', 'missing or wrong metrics token', { 'WWW-Authenticate': 'Bearer' });
    }
    await next();
  };
}

/**
 * 8x8's only webhook authentication for voice is the `httpAuthHeader` registered with the webhook, sent
 * verbatim as the Authorization header: the header is the secret, whatever it starts with (`Bearer <token>` is
 * the usual thing to register). A `Bearer ` put in front of the secret on the way is tolerated as well.
 */
export function webhookSecretMatches(header: string, secret: string): boolean {
  // Both comparisons always run, so the time taken does not tell which of the two forms came close.
  const verbatim = secretsMatch(header, secret);
  const prefixed = secretsMatch(header.replace(/^Bearer\s+/i, ''), secret);
  return verbatim || prefixed;
}

/** The webhook secret as a guard: 401 to a webhook without it. Unset, open in development mode only, as the API. */
export function requireWebhookSecret(secret: string | null, developmentMode: boolean) {
  if (secret === null && developmentMode) return async (_ctx: Context, next: Next) => next();
  return async (ctx: Context, next: Next) => {
    if (secret === null || !webhookSecretMatches(ctx.get('authorization'), secret)) {
      const why =
        secret === null
          ? 'webhooks are closed: MASKLINE_WEBHOOK_SECRET is unset'
          : 'missing or wrong webhook credential';
      throw new HttpError(401, 'unauthorized', why);
    }
    await next();
  };
}

/**
 * The address the request came from: the socket's, or behind N trusted proxies (app.proxy, app.maxIpsCount N) the
 * X-Forwarded-For entry N from the right, which the farthest proxy wrote. Null when the chain has fewer entries
 * than there are proxies: the request missed one of them, so every entry may be the client's own writing. (Koa's
 * ctx.ip would take the first entry then, or the socket's address for an empty one.)
 */
function clientAddress(ctx: Context): string | null {
  if (!ctx.app.proxy) return ctx.socket.remoteAddress ?? null;
  const ips = ctx.ips;
  return ips.length >= ctx.app.maxIpsCount ? (ips[0] ?? null) : null;
}

/**
 * Webhooks only from the listed addresses (8x8 publishes the IPs its webhooks come from), checked before the
 * credential. An empty list allows any source.
 */
export function allowWebhookSources(sources: readonly string[]) {
  if (sources.length === 0) return async (_ctx: Context, next: Next) => next();
  const allowed = new BlockList();
  for (const source of sources) {
    const [address = '', prefix] = source.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) allowed.addAddress(address, family);
    else allowed.addSubnet(address, Number(prefix), family);
  }
  return async (ctx: Context, next: Next) => {
    // IPv4 clients of a dual-stack server show up as ::ffff:a.b.c.d.
    const ip = (clientAddress(ctx) ?? '').replace(/^::ffff:/, '');
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(ip) || !allowed.check(ip, family)) {
      throw new HttpError(403, 'forbidden_source', 'webhooks are not accepted from this address');
    }
    await next();
  };
}
