import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import Router from '@koa/router';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { requireCodecToken } from '../auth';
import { HttpError } from '../errors';

export interface CodecEndpointOptions {
  codec: PayloadCodec;
  token: string | null;
  developmentMode: boolean;
  /** Origins of the Temporal UI, which calls this endpoint from the browser. */
  corsOrigins: readonly string[];
}

/** A Temporal payload in proto3 JSON: every bytes field, metadata values and data, in base64. */
const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64')
  .meta({ contentEncoding: 'base64' });
export const codecPayloadSchema = z
  .object({
    metadata: z
      .record(z.string(), base64)
      .nullish()
      .meta({ examples: [{ encoding: 'YmluYXJ5L2VuY3J5cHRlZA==', 'encryption-key-id': 'azE=' }] }),
    data: base64.nullish(),
  })
  .meta({ description: 'A Temporal payload in proto3 JSON: metadata values and data in base64.' });
/** The body of a request, and of its answer. */
export const codecPayloadsSchema = z.object({ payloads: z.array(codecPayloadSchema) });
type JsonPayload = z.infer<typeof codecPayloadSchema>;

const fromJson = (payload: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
  ),
  data: Buffer.from(payload.data ?? '', 'base64'),
});

const toJson = (payload: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  ),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});

/**
 * The codec server of the Temporal UI and CLI (`--ui-codec-endpoint`, `--codec-endpoint`): `POST /codec/decode`
 * and `/codec/encode` take and answer `{"payloads": [...]}`, run through our payload codec.
 *
 * CORS, the codec token and the body parser are middleware of a router without prefix that holds the routes, so
 * they run for every request that reaches a route. A prefixed router's own `use()` matches its prefix
 * case-sensitively even where its routes match any case (@koa/router 15's default): `POST /Codec/decode` went
 * past the token unasked.
 */
export function codecRoutes(options: CodecEndpointOptions): Router {
  const door = new Router({ sensitive: true });
  door.use(
    ...uiCors(options.corsOrigins),
    requireCodecToken(options.token, options.developmentMode),
    bodyParser({
      enableTypes: ['json'],
      // One Temporal payload may be up to 2 MB; the UI sends one event's payloads at a time.
      jsonLimit: '4mb',
      detectJSON: () => true,
      onError: (error: Error & { status?: number }) => {
        if (error.status === 413) throw new HttpError(413, 'payload_too_large', 'the request body is larger than 4 MB');
        throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
      },
    }),
  );
  door.use(operations(options).routes());
  return door;
}

function operations(options: CodecEndpointOptions): Router {
  const router = new Router({ prefix: '/codec', sensitive: true });
  // Preflights are answered by cors() before the token is asked for; these routes only make the router match them.
  router.options(['/decode', '/encode'], () => {});
  for (const operation of ['decode', 'encode'] as const) {
    router.post(`/${operation}`, async (ctx) => {
      const parsed = codecPayloadsSchema.safeParse(ctx.request.body);
      if (!parsed.success) {
        throw new HttpError(400, 'invalid_request', 'expected {"payloads": [{"metadata": {...}, "data": "<base64>"}]}');
      }
      const payloads = parsed.data.payloads.map(fromJson);
      let result: Payload[];
      try {
        result = operation === 'decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
      } catch (error) {
        throw new HttpError(422, 'undecodable_payload', error instanceof Error ? error.message : String(error));
      }
      ctx.body = { payloads: result.map(toJson) };
    });
  }
  return router;
}

/**
 * CORS for the Temporal UI's origins, with credentials (the UI can send cookies or its access token). A preflight
 * is answered before the credential check, as browsers send none with it: by @koa/cors for an allowed origin, and
 * with a bare 204 (no permission) for any other, rather than the token's 401.
 */
function uiCors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return [
    cors({
      origin: (ctx) => (allowed.has(ctx.get('origin')) ? ctx.get('origin') : ''),
      credentials: true,
      allowMethods: 'POST, OPTIONS',
      allowHeaders: 'Content-Type, Authorization, X-Namespace',
      maxAge: 600,
      // Headers set on ctx stay on error answers (errorResponses keeps them); our HttpErrors are not rewritten.
      keepHeadersOnError: false,
    }),
    async (ctx: Context, next: Next) => {
      if (ctx.method !== 'OPTIONS') return next();
      ctx.status = 204;
    },
  ];
}
