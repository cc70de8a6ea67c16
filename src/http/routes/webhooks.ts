import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { CallEventRecorder } from '../../calls/callEvents';
import type { CallRouter } from '../../calls/callRouter';
import {
  parseCallAction,
  parseCallRecordingStatus,
  parseCallStatus,
  parseSessionSummary,
  parseWebhook,
  type Webhook,
} from '../../eightbyeight';
import type { Logger } from '../../logging/logger';
import { observeCallAction } from '../../metrics/metrics';
import { ForeignSubaccount, type NumberSync } from '../../numbers/numberSync';
import { HttpError, errorBody } from '../errors';
import type { CallActionAnswer, VirtualNumberUpdateEvent } from '../../eightbyeight';

export interface WebhookDependencies {
  router: CallRouter;
  events: CallEventRecorder;
  logger: Logger;
  numberSync: Pick<NumberSync, 'applyVirtualNumberUpdate'>;
}

/**
 * 8x8's webhooks. One URL per type, plus `/webhooks/8x8` which takes any type and dispatches on `eventType`
 * (older 8x8 guides route every type to one URL). Bad input is a 4xx, never a 5xx. The source allow-list and the
 * secret are the guards of a router that holds this one (see createApp).
 */
export function webhookRoutes(deps: WebhookDependencies): Router {
  const router = new Router({ prefix: '/webhooks/8x8', sensitive: true });

  router.post('/call-action', async (ctx) => {
    const parsed = parseCallAction(ctx.request.body);
    if (!parsed.ok) throw new HttpError(400, parsed.error.code, parsed.error.message);
    ctx.body = await deps.router.answer(parsed.value);
  });

  router.post('/call-status', async (ctx) => {
    const parsed = parseCallStatus(ctx.request.body);
    if (!parsed.ok) throw new HttpError(400, parsed.error.code, parsed.error.message);
    ctx.body = { received: true, outcome: await deps.events.recordStatus(parsed.value) };
  });

  router.post('/session-summary', async (ctx) => {
    const parsed = parseSessionSummary(ctx.request.body);
    if (!parsed.ok) throw new HttpError(400, parsed.error.code, parsed.error.message);
    ctx.body = { received: true, outcome: await deps.events.recordSummary(parsed.value) };
  });

  router.post('/call-recording-status', async (ctx) => {
    const parsed = parseCallRecordingStatus(ctx.request.body);
    if (!parsed.ok) throw new HttpError(400, parsed.error.code, parsed.error.message);
    ctx.body = { received: true, outcome: await deps.events.recordRecording(parsed.value) };
  });

  router.post('/', async (ctx) => {
    const parsed = parseWebhook(ctx.request.body);
    if (!parsed.ok) throw new HttpError(400, parsed.error.code, parsed.error.message);
    ctx.body = await dispatch(parsed.value, deps);
  });

  return router;
}

async function dispatch(webhook: Webhook, deps: WebhookDependencies) {
  switch (webhook.type) {
    case 'CALL_ACTION':
      return deps.router.answer(webhook.event);
    case 'CALL_STATUS':
      return { received: true, outcome: await deps.events.recordStatus(webhook.event) };
    case 'SESSION_SUMMARY':
      return { received: true, outcome: await deps.events.recordSummary(webhook.event) };
    case 'VIRTUAL_NUMBER_UPDATE':
      return applyNumberUpdate(webhook.event, deps);
    case 'CALL_RECORDING_STATUS':
      return { received: true, outcome: await deps.events.recordRecording(webhook.event) };
  }
}

/** 8x8 changed the subaccount's numbers: the pool follows, by the same rules as `numbers sync`. */
async function applyNumberUpdate(event: VirtualNumberUpdateEvent, deps: WebhookDependencies) {
  try {
    const result = await deps.numberSync.applyVirtualNumberUpdate(event);
    const numbers = {
      added: result.added.length,
      changed: result.changed.filter((change) => change.to !== 'draining').length,
      draining: result.changed.filter((change) => change.to === 'draining').length,
      unchanged: result.unchanged,
    };
    deps.logger.info({ updateEventType: event.updateEventType, ...numbers }, 'virtual number update applied');
    return { received: true, outcome: 'applied', numbers };
  } catch (error) {
    if (!(error instanceof ForeignSubaccount)) throw error;
    deps.logger.warn({ reason: error.message }, 'virtual number update for another subaccount ignored');
    return { received: true, outcome: 'ignored' };
  }
}

/**
 * A call-action answer is always a callflow, even with an error status: should 8x8 act on a 4xx body, the
 * caller hears the notice rather than silence. Wraps the guards and body parsing too, so it sits before them.
 */
export function callflowOnError(notice: () => CallActionAnswer) {
  return async (ctx: Context, next: Next) => {
    const startedAt = process.hrtime.bigint();
    try {
      await next();
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // A refusal of the guards (401, 403) is counted as one (maskline_webhook_refusals_total), not as a call.
      if (error.status === 400 || error.status === 413 || error.status === 415) observeCallAction('invalid', startedAt);
      ctx.status = error.status;
      ctx.set(error.headers);
      ctx.body = { ...errorBody(error.code, error.message), ...notice() };
    }
  };
}
