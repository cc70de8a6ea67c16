import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { metricsRegistry, webhookRefusals } from '../../metrics/metrics';
import { HttpError } from '../errors';

/** `GET /metrics`: this process's metrics in Prometheus's text format. Its guard is the router's that holds it. */
export function metricsRoutes(): Router {
  const router = new Router({ sensitive: true });
  router.get('/metrics', async (ctx) => {
    ctx.type = metricsRegistry.contentType;
    ctx.body = await metricsRegistry.metrics();
  });
  return router;
}

/** Counts the webhook guards' refusals (401, 403) by route; sits before the guards. */
export async function countWebhookRefusals(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
      // Only a request that matched a route reaches the guards, and no webhook route has a parameter: the path is
      // the route, and the label takes as many values as there are routes.
      webhookRefusals.inc({ route: ctx.path, status: String(error.status) });
    }
    throw error;
  }
}
