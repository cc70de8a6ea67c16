import Router from '@koa/router';

export interface Readiness {
  store(): Promise<boolean>;
  temporal(): Promise<boolean>;
}

/** `/healthz`: the process is alive. `/readyz`: the store and Temporal answer; 503 names what does not. */
export function healthRoutes(readiness: Readiness): Router {
  const router = new Router({ sensitive: true });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const [store, temporal] = await Promise.all([readiness.store(), readiness.temporal()]);
    const unavailable = [...(store ? [] : ['store']), ...(temporal ? [] : ['temporal'])];
    ctx.status = unavailable.length === 0 ? 200 : 503;
    ctx.body = {
      status: unavailable.length === 0 ? 'ready' : 'unavailable',
      checks: { store: store ? 'ok' : 'unavailable', temporal: temporal ? 'ok' : 'unavailable' },
      ...(unavailable.length > 0
        ? { error: { code: 'not_ready', message: `unavailable: ${unavailable.join(', ')}` } }
        : {}),
    };
  });
  return router;
}
