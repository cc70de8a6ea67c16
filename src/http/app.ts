import type { Admission } from '../bookings/admission';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import type { BookingClient } from '../bookings/client';
import type { BookingEraser } from '../bookings/erasure';
import type { CallEventRecorder } from '../calls/callEvents';
import type { CallRouter } from '../calls/callRouter';
import type { BookingEventsClient } from '../events/eventsClient';
import type { BookingList } from '../bookings/bookingList';
import type { Logger } from '../logging/logger';
import type { NumberSync } from '../numbers/numberSync';
import type { NumberPool } from '../store/numberPool';
import type { OperationsSummaryService } from '../operations/operationsSummary';
import { allowWebhookSources, requireApiKey, requireMetricsToken, requireWebhookSecret } from './auth';
import { bodyParseError, errorResponses } from './errors';
import { canonicalPathsOnly } from './paths';
import { requestTracking } from './requestLog';
import { bookingEventRoutes } from './routes/bookingEvents';
import { bookingListRoutes } from './routes/bookingList';
import { bookingRoutes, type BookingCreationOptions } from './routes/bookings';
import { codecRoutes, type CodecEndpointOptions } from './routes/codec';
import { dashboardRoutes } from './routes/dashboard';
import { healthRoutes, type Readiness } from './routes/health';
import { countWebhookRefusals, metricsRoutes } from './routes/metrics';
import { numberRoutes } from './routes/numbers';
import { openApiRoutes } from './routes/openapi';
import { operationsRoutes } from './routes/operations';
import { callflowOnError, webhookRoutes } from './routes/webhooks';

export interface AppDependencies {
  apiKey: string | null;
  webhookSecret: string | null;
  /** Only then does an unset API key or webhook secret leave its door open. */
  developmentMode: boolean;
  webhookAllowedSources?: readonly string[];
  /** Proxies in front that append to X-Forwarded-For (0: it is ignored); see Config.trustedProxies. */
  trustedProxies?: number;
  logger: Logger;
  readiness: Readiness;
  numbers: NumberPool;
  bookings: BookingClient;
  bookingEraser: BookingEraser;
  creationAdmission: Admission;
  bookingEvents: BookingEventsClient;
  bookingList: BookingList;
  /** How new bookings' events are addressed and read (callbackUrl rules, party numbers). */
  bookingCreation?: BookingCreationOptions;
  callRouter: CallRouter;
  callEvents: CallEventRecorder;
  /** Applies 8x8's VIRTUAL_NUMBER_UPDATE webhooks to the pool. */
  numberSync: NumberSync;
  /** The Temporal UI's codec server (`/codec/decode`, `/codec/encode`). */
  codec: CodecEndpointOptions;
  /** The operators' summary behind `/v1/operations/summary` and the dashboard. */
  operations: OperationsSummaryService;
  /** Bearer token of `GET /metrics`; null: open in development mode, 404 otherwise. */
  metricsToken?: string | null;
}

export const MAX_BODY = '64kb';

/**
 * The HTTP surface: health, OpenAPI document, the booking platform's API, 8x8's webhooks, the codec endpoint and
 * the metrics.
 *
 * Each surface's guards are middleware of a router without prefix that holds the surface's routers ("a door"): the
 * router runs them for every request that reaches one of its routes and for no other, whatever the path looks like.
 * A guard chosen by a string test on the path, or a prefixed router's own `use()`, can disagree with how the routes
 * match: `GET /V1/bookings/<id>` passed a `/v1/` prefix test, and `POST /Webhooks/8x8/call-action` the webhook
 * router's own secret check, both unguarded. Besides, a path has one spelling only: other spellings are answered
 * 404 before any router (see isCanonicalPath), and every router matches case-sensitively.
 */
export function createApp(deps: AppDependencies): Koa {
  const app = new Koa();
  // Trust X-Forwarded-For only when told to, and only the entries the proxies appended: a client writes the rest,
  // and Koa's default (maxIpsCount 0) takes the first entry, so `X-Forwarded-For: <an 8x8 address>` passed the
  // webhook allow-list behind any proxy that appends. With maxIpsCount N, ctx.ips is the last N entries.
  app.proxy = (deps.trustedProxies ?? 0) > 0;
  app.maxIpsCount = deps.trustedProxies ?? 0;
  app.silent = true;

  app.use(requestTracking(deps.logger));
  app.use(errorResponses(deps.logger));
  app.use(canonicalPathsOnly);

  // Parsed behind the guards: a request without its credential costs no parsing.
  const jsonBody = bodyParser({
    enableTypes: ['json'],
    jsonLimit: MAX_BODY,
    // Every body we accept is JSON, whatever Content-Type the sender set (or forgot).
    detectJSON: () => true,
    onError: (error) => {
      throw bodyParseError(error);
    },
  });

  const api = new Router({ sensitive: true });
  api.use(requireApiKey(deps.apiKey, deps.developmentMode), jsonBody);
  api.use(
    numberRoutes(deps.numbers).routes(),
    bookingRoutes(deps.bookings, deps.bookingEraser, deps.creationAdmission, deps.bookingCreation).routes(),
    bookingEventRoutes(deps.bookingEvents).routes(),
    bookingListRoutes(deps.bookingList).routes(),
    operationsRoutes(deps.operations).routes(),
  );

  const webhooks = new Router({ sensitive: true });
  // A call action's every error answer, the guards' refusals included, still carries a callflow.
  webhooks.use(
    '/webhooks/8x8/call-action',
    callflowOnError(() => deps.callRouter.notice()),
  );
  webhooks.use(
    countWebhookRefusals,
    // The source before the secret: an address off the list learns nothing about the secret.
    allowWebhookSources(deps.webhookAllowedSources ?? []),
    requireWebhookSecret(deps.webhookSecret, deps.developmentMode),
    jsonBody,
  );
  webhooks.use(
    webhookRoutes({
      router: deps.callRouter,
      events: deps.callEvents,
      logger: deps.logger,
      numberSync: deps.numberSync,
    }).routes(),
  );

  // No allowedMethods(): another method is 404 like an unknown path. The router answers 405 (and OPTIONS) from the
  // layers any router matched by path, when no route matched, which is before any guard runs: it answered
  // `PUT /v1/numbers` and `GET /v1/bookings/<id>%2Fcancel` without the API key.
  const metrics = new Router({ sensitive: true });
  metrics.use(requireMetricsToken(deps.metricsToken ?? null, deps.developmentMode));
  metrics.use(metricsRoutes().routes());

  const routers = [
    healthRoutes(deps.readiness),
    openApiRoutes(),
    dashboardRoutes(),
    codecRoutes(deps.codec),
    api,
    webhooks,
    metrics,
  ];
  for (const router of routers) app.use(router.routes());
  return app;
}
