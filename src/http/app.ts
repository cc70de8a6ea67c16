import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import type { BookingClient } from '../bookings/client';
import type { BookingEraser } from '../bookings/erasure';
import type { CallEventRecorder } from '../calls/callEvents';
import type { CallRouter } from '../calls/callRouting';
import type { Logger } from '../logging/logger';
import type { NumberSync } from '../numbers/numberSync';
import type { NumberPool } from '../store/numberPool';
import { allowWebhookSources, requireApiKey } from './auth';
import { bodyParseError, errorResponses } from './errors';
import { bookingRoutes } from './routes/bookings';
import { codecRoutes, type CodecEndpointOptions } from './routes/codec';
import { healthRoutes, type Readiness } from './routes/health';
import { numberRoutes } from './routes/numbers';
import { openApiRoutes } from './routes/openapi';
import { callflowOnError, webhookRoutes } from './routes/webhooks';

export interface AppDependencies {
  apiKey: string | null;
  webhookSecret: string | null;
  webhookAllowedSources?: readonly string[];
  trustProxy?: boolean;
  logger: Logger;
  readiness: Readiness;
  numbers: NumberPool;
  bookings: BookingClient;
  bookingEraser: BookingEraser;
  callRouter: CallRouter;
  callEvents: CallEventRecorder;
  /** Applies 8x8's VIRTUAL_NUMBER_UPDATE webhooks to the pool. */
  numberSync: NumberSync;
  /** The Temporal UI's codec server (`/codec/decode`, `/codec/encode`). */
  codec: CodecEndpointOptions;
}

export const MAX_BODY = '64kb';

/** The HTTP surface: health, OpenAPI document, the booking platform's API and 8x8's webhooks. */
export function createApp(deps: AppDependencies): Koa {
  const app = new Koa();
  // Trust X-Forwarded-For only when told to: otherwise any client could claim an allowed webhook source.
  app.proxy = deps.trustProxy ?? false;
  app.silent = true;

  app.use(errorResponses(deps.logger));
  app.use(callflowOnError('/webhooks/8x8/call-action', () => deps.callRouter.notice()));
  // Before the body parser: the codec endpoint parses its own, larger bodies and has its own credential.
  const codec = codecRoutes(deps.codec);
  app.use(codec.routes()).use(codec.allowedMethods());
  app.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: MAX_BODY,
      // Every body we accept is JSON, whatever Content-Type the sender set (or forgot).
      detectJSON: () => true,
      onError: (error) => {
        throw bodyParseError(error);
      },
    }),
  );

  const health = healthRoutes(deps.readiness);
  const openApi = openApiRoutes();
  const apiAuth = requireApiKey(deps.apiKey);
  const numbers = numberRoutes(deps.numbers);
  const bookings = bookingRoutes(deps.bookings, deps.bookingEraser);
  const webhooks = webhookRoutes({
    router: deps.callRouter,
    events: deps.callEvents,
    webhookSecret: deps.webhookSecret,
    logger: deps.logger,
    numberSync: deps.numberSync,
  });

  app.use(health.routes());
  app.use(openApi.routes());
  const webhookSources = allowWebhookSources(deps.webhookAllowedSources ?? []);
  app.use(async (ctx, next) => (ctx.path.startsWith('/webhooks/') ? webhookSources(ctx, next) : next()));
  app.use(webhooks.routes()).use(webhooks.allowedMethods());
  app.use(async (ctx, next) => (ctx.path.startsWith('/v1/') ? apiAuth(ctx, next) : next()));
  app.use(numbers.routes()).use(numbers.allowedMethods());
  app.use(bookings.routes()).use(bookings.allowedMethods());
  return app;
}
