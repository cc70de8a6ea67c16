import Router from '@koa/router';
import { countryOfNumber } from '../../domain/phoneNumbers';
import { NumberExists, type NumberPool } from '../../store/numberPool';
import { z } from 'zod';
import { HttpError } from '../errors';
import { decodeCursor, encodeCursor, pageQuery, parseQuery, singleQueryValue } from '../listing';
import { parseNumberParam, parseNumberRequest } from '../requests';

const numberListQuery = z.object({
  status: singleQueryValue.pipe(z.enum(['active', 'disabled', 'draining']).optional()),
  country: singleQueryValue.pipe(
    z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as SG')
      .transform((code) => code.toUpperCase())
      .optional(),
  ),
  ...pageQuery,
});

/** The pool of virtual numbers: add, list, drain, restore. */
export function numberRoutes(pool: NumberPool): Router {
  const router = new Router({ prefix: '/v1/numbers', sensitive: true });

  router.post('/', async (ctx) => {
    const request = parseNumberRequest(ctx.request.body);
    try {
      ctx.body = await pool.add({
        number: request.number,
        countryCode: request.countryCode ?? countryOfNumber(request.number),
        referenceId: request.referenceId ?? null,
        ...(request.use ? { use: request.use } : {}),
      });
      ctx.status = 201;
    } catch (error) {
      if (error instanceof NumberExists) throw new HttpError(409, 'number_exists', error.message);
      throw error;
    }
  });

  router.get('/', async (ctx) => {
    const query = parseQuery(numberListQuery, ctx.query);
    const page = await pool.page({
      limit: query.limit,
      ...(query.status ? { status: query.status } : {}),
      ...(query.country ? { countryCode: query.country } : {}),
      ...(query.cursor !== undefined ? { after: parseNumberParam(decodeCursor(query.cursor)) } : {}),
    });
    ctx.body = { numbers: page.numbers, nextCursor: page.next === null ? null : encodeCursor(page.next) };
  });

  router.delete('/:number', async (ctx) => {
    const number = parseNumberParam(ctx.params.number ?? '');
    const drained = await pool.setStatus(number, 'draining');
    if (!drained) throw new HttpError(404, 'number_not_found', `${number} is not in the pool`);
    ctx.status = 202;
    ctx.body = drained;
  });

  router.post('/:number/restore', async (ctx) => {
    const number = parseNumberParam(ctx.params.number ?? '');
    const restored = await pool.restore(number);
    if (!restored) throw new HttpError(404, 'number_not_found', `${number} is not in the pool`);
    ctx.body = restored;
  });

  return router;
}
