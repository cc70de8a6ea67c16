import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logging/logger';

/**
 * An incoming X-Request-Id is kept when it could be an id: up to 128 letters, digits and `-._:`. Anything else (a
 * header a client fills with text, a phone number's `+`, two headers joined with a comma) gets an id of ours.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/** The route a request matched, kept for its access-log line, which is written once the answer has gone. */
const routes = new WeakMap<IncomingMessage, string>();
/** Requests refused because the server was at capacity: their access-log lines are summed, not written one by one. */
const refusedAtCapacity = new WeakSet<IncomingMessage>();

/** At most one line this often for the creations refused at capacity. */
const CAPACITY_REFUSALS_LOGGED_EVERY_MS = 10_000;

function isErrorBody(body: unknown): body is { error: Record<string, unknown> } {
  const error = (body as { error?: unknown } | null | undefined)?.error;
  return typeof error === 'object' && error !== null && !Array.isArray(error);
}

/**
 * Every request gets a request id (X-Request-Id, kept from the request when sane), returned in the response's
 * X-Request-Id and in every error body as `error.requestId`, and one access-log line when its answer has gone:
 * method, path without the query string, the route matched, status and time. Never a body, a header or a query:
 * a call action's body holds the parties' numbers (the logger masks any number a path might hold).
 */
export function requestTracking(logger: Logger) {
  const accessLog = pinoHttp({
    logger,
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    quietResLogger: true,
    // 5xx answers are logged where they happen (errorResponses), with the error. A refusal at capacity is
    // counted instead (below): past capacity a line per refusal was a write per request, a tenth of the HTTP
    // server's CPU in the overload benchmark, spent exactly when the machine had none to spare.
    customLogLevel: (request, response, error) => {
      if (refusedAtCapacity.has(request)) return 'silent';
      return error || response.statusCode >= 500 ? 'warn' : 'info';
    },
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request',
    customSuccessObject: (request, response, fields: { responseTime: number }) => line(request, response, fields),
    customErrorObject: (request, response, _error, fields: { responseTime: number }) => line(request, response, fields),
  });
  const line = (request: IncomingMessage, response: { statusCode: number }, fields: { responseTime: number }) => ({
    method: request.method,
    path: (request.url ?? '').split('?')[0],
    route: routes.get(request),
    status: response.statusCode,
    responseTimeMs: fields.responseTime,
  });

  const capacityRefusals = new RefusalSummary(logger, CAPACITY_REFUSALS_LOGGED_EVERY_MS);

  return async (ctx: Context, next: Next) => {
    accessLog(ctx.req, ctx.res);
    const requestId = String(ctx.req.id);
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      // A guard's refusal leaves the pattern of the guard's layer, not a route's.
      const route: unknown = ctx._matchedRoute;
      if (typeof route === 'string' && route.startsWith('/')) routes.set(ctx.req, route);
    }
    if (isErrorBody(ctx.body)) {
      if (ctx.body.error.code === 'overloaded') {
        refusedAtCapacity.add(ctx.req);
        capacityRefusals.count(ctx.path);
      }
      ctx.body = { ...ctx.body, error: { ...ctx.body.error, requestId } };
    }
  };
}

/**
 * The refusals at capacity, as one warning now and then: the first at once, then at most one per `everyMs`, each
 * with how many came since the line before, so that the logs add up to every refusal
 * (maskline_booking_creations_total{result="overloaded"} counts them too).
 */
export class RefusalSummary {
  private lastLoggedAt = -Infinity;
  private pending = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  count(path: string): void {
    this.pending += 1;
    const wait = this.lastLoggedAt + this.everyMs - this.now();
    if (wait <= 0) this.write(path);
    else this.timer ??= setTimeout(() => this.write(path), wait).unref();
  }

  private write(path: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending === 0) return;
    this.logger.warn({ path, refused: this.pending, status: 503 }, 'requests refused: the server is at capacity');
    this.lastLoggedAt = this.now();
    this.pending = 0;
  }
}
