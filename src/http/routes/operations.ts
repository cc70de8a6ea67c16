import Router from '@koa/router';
import type { OperationsSummaryService } from '../../operations/operationsSummary';

/** `GET /v1/operations/summary`: the operators' figures (pool headroom, bookings, calls, events, sync). */
export function operationsRoutes(summary: OperationsSummaryService): Router {
  const router = new Router({ prefix: '/v1/operations', sensitive: true });
  router.get('/summary', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await summary.summary();
  });
  return router;
}
