import Router from '@koa/router';
import { openApiDocument } from '../openapi';

/** `GET /openapi.json`: the description of this API, checked against real answers by the tests. */
export function openApiRoutes(): Router {
  const router = new Router({ sensitive: true });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument;
  });
  return router;
}
