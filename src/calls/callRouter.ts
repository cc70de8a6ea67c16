import { decideRoute, type Route, type RoutingDecision } from '../domain/callRouting';
import type { E164 } from '../domain/phoneNumbers';
import { connectCall, noticeAndHangup, type CallActionAnswer, type CallActionEvent } from '../eightbyeight';
import type { Logger } from '../logging/logger';
import { observeCallAction } from '../metrics/metrics';
import type { CallRecords } from '../store/callRecords';
import type { CallRoutes } from '../store/callRoutes';
import { isPinAction } from '../domain/pin';
import type { OutOfSessionCalls, OutOfSessionOutcome } from './outOfSession';
import { isMenuChoice, offerMenu, routeByChoice } from './partyMenu';
import type { PinCalls } from './pinCalls';

export interface CallRoutingSettings {
  unknownCallerNotice: string;
  voiceProfile: string;
  /** How long the answer may wait for the store before the caller hears the notice instead. */
  storeTimeoutMs: number;
}

class StoreTimeout extends Error {}

/**
 * Answers 8x8's call actions from the store alone: Temporal is not on this path, so calls connect while it is
 * down. The answer is always a valid callflow — when the store cannot tell in time, the caller hears the notice.
 */
export class CallRouter {
  constructor(
    private readonly routes: Pick<CallRoutes, 'findRoute'>,
    private readonly callRecords: Pick<CallRecords, 'recordSession'>,
    private readonly settings: CallRoutingSettings,
    private readonly logger: Logger,
    /** Calls no live booking routes (late callers, the out-of-session policy); without it: the notice. */
    private readonly outOfSession: Pick<OutOfSessionCalls, 'plan'> | null = null,
    /** Told of each call handled out of session, off the answer's path (booking events). */
    private readonly onOutOfSession: (event: CallActionEvent, outcome: OutOfSessionOutcome) => void = () => {},
    /** Calls to numbers of the PIN set (src/calls/pinCalls.ts); without it they are like any other. */
    private readonly pinCalls: PinCalls | null = null,
  ) {}

  async answer(event: CallActionEvent): Promise<CallActionAnswer> {
    const startedAt = process.hrtime.bigint();
    // The follow-up of a digit prompt of ours, dispatched by what its clientActionId says it asked for: a PIN
    // (src/calls/pinCalls.ts) or a menu choice (src/calls/partyMenu.ts); any other follow-up ends the call.
    if (event.callStatus === 'ACTION_COMPLETED' && this.pinCalls && isPinAction(event.clientActionId)) {
      const outcome = await this.pinCalls.followUp(event);
      if ('answer' in outcome) {
        observeCallAction(outcome.answer.clientActionId ? 'pin_prompt' : 'notice', startedAt);
        return outcome.answer;
      }
      return this.connect(event, outcome.connect, startedAt);
    }
    const choice = isMenuChoice(event);
    if (event.callStatus !== 'CALL_RECEIVED' && !choice) return { callflow: [{ action: 'hangup' }] };
    const decision = await this.decide(event, choice ? routeByChoice(event.dtmf) : decideRoute);
    if (decision.kind === 'menu') {
      observeCallAction('menu', startedAt);
      return offerMenu(decision, this.settings);
    }
    if (decision.kind === 'connect') return this.connect(event, decision, startedAt);
    if (decision.reason === 'no_live_booking' && !choice && (await this.pinCalls?.asksForPin(event))) {
      observeCallAction('pin_prompt', startedAt);
      return this.pinCalls!.ask();
    }
    if (decision.reason === 'no_live_booking' && this.outOfSession && !choice) {
      return this.answerOutOfSession(event, startedAt);
    }
    this.logger.info({ sessionId: event.sessionId, reason: decision.reason }, 'caller turned away');
    observeCallAction(decision.reason === 'store_unavailable' ? 'store_timeout' : 'notice', startedAt);
    return this.notice();
  }

  private connect(
    event: CallActionEvent,
    decision: Extract<RoutingDecision, { kind: 'connect' }>,
    startedAt: bigint,
  ): CallActionAnswer {
    this.recordSession(event, decision);
    observeCallAction('connected', startedAt);
    return connectCall({
      virtualNumber: decision.callerId,
      destination: decision.destination,
      record: decision.record,
    });
  }

  /** src/calls/outOfSession.ts decides; any failure there, or a callflow that cannot be built, is the notice. */
  private async answerOutOfSession(event: CallActionEvent, startedAt: bigint): Promise<CallActionAnswer> {
    try {
      const outcome = await this.outOfSession!.plan(event);
      const { plan, pairing } = outcome;
      this.logger.info({ sessionId: event.sessionId, reason: outcome.reason, plan: plan.kind }, 'call out of session');
      let answer: CallActionAnswer;
      if (plan.kind === 'connect') {
        answer = connectCall({ virtualNumber: event.destination, destination: plan.destination });
        if (pairing) {
          this.recordSession(event, {
            kind: 'connect',
            bookingId: pairing.bookingId,
            callerRole: pairing.callerRole,
            destination: plan.destination,
            callerId: event.destination,
            // A late call is put through without recording: the booking's choice ended with it.
            record: false,
          });
        }
      } else if (plan.kind === 'say') {
        answer = noticeAndHangup({ text: plan.text, voiceProfile: this.settings.voiceProfile });
      } else {
        answer = this.notice();
      }
      this.onOutOfSession(event, outcome);
      observeCallAction(plan.kind === 'connect' ? 'connected' : 'notice', startedAt);
      return answer;
    } catch (error) {
      this.logger.warn({ err: error, sessionId: event.sessionId }, 'out-of-session routing failed; the notice');
      observeCallAction('notice', startedAt);
      return this.notice();
    }
  }

  notice(): CallActionAnswer {
    return noticeAndHangup({ text: this.settings.unknownCallerNotice, voiceProfile: this.settings.voiceProfile });
  }

  private async decide(
    event: CallActionEvent,
    rule: (virtualNumber: E164, route: Route | null) => RoutingDecision,
  ): Promise<RoutingDecision> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreTimeout()), this.settings.storeTimeoutMs);
      });
      if (event.source === null) return { kind: 'reject', reason: 'no_live_booking' };
      const route: Route | null = await Promise.race([
        this.routes.findRoute(event.source, event.destination),
        deadline,
      ]);
      return rule(event.destination, route);
    } catch (error) {
      this.logger.warn(
        { err: error instanceof StoreTimeout ? 'timeout' : error, sessionId: event.sessionId },
        'store could not route the call; answering with the notice',
      );
      return { kind: 'reject', reason: 'store_unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Off the answer's path: the caller is not kept waiting for a write whose loss only costs the call's role. */
  private recordSession(event: CallActionEvent, decision: Extract<RoutingDecision, { kind: 'connect' }>): void {
    this.callRecords
      .recordSession({
        sessionId: event.sessionId,
        bookingId: decision.bookingId,
        virtualNumber: decision.callerId,
        callerRole: decision.callerRole,
        caller: event.source ?? 'withheld',
        startedAt: dateOr(event.timestamp, new Date()),
        ...(decision.calleeRole !== undefined ? { calleeRole: decision.calleeRole } : {}),
      })
      .catch((error: unknown) =>
        this.logger.warn({ err: error, sessionId: event.sessionId }, 'call session not recorded'),
      );
  }
}

function dateOr(text: string | undefined, fallback: Date): Date {
  const date = text ? new Date(text) : fallback;
  return Number.isNaN(date.getTime()) ? fallback : date;
}
