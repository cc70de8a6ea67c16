import { connectTo, type Route, type RoutingDecision } from '../domain/callRouting';
import { chosenTarget, partyMenu } from '../domain/partyMenu';
import type { E164 } from '../domain/phoneNumbers';
import { captureDigits, type CallActionAnswer, type CallActionEvent } from '../eightbyeight';

/**
 * The menu of a caller who may reach several parties of a booking: offered at the call (8x8's `sayAndCapture`),
 * and the choice routed when 8x8 posts the key press back (`ACTION_COMPLETED`). The choice is routed by looking
 * the caller's route up again, so nothing of the booking travels through 8x8: the `clientActionId` says only
 * "menu" (8x8 logs it).
 */
export const MENU_ACTION_ID = 'menu';

const NO_CHOICE_MESSAGE = 'No choice was made.';

/** The follow-up of a menu of ours: the caller's key press. */
export function isMenuChoice(event: CallActionEvent): boolean {
  return event.callStatus === 'ACTION_COMPLETED' && (event.clientActionId ?? '').startsWith(MENU_ACTION_ID);
}

export function offerMenu(
  decision: Extract<RoutingDecision, { kind: 'menu' }>,
  settings: { voiceProfile: string },
): CallActionAnswer {
  const menu = partyMenu(decision.targets);
  return captureDigits({
    prompt: menu.prompt,
    voiceProfile: settings.voiceProfile,
    clientActionId: MENU_ACTION_ID,
    minDigits: 1,
    maxDigits: 1,
    // 8x8 asks again itself; after the last try it says this, and posts what it has (nothing) back to us, whose
    // answer is the notice: so not the notice here too.
    failureMessage: NO_CHOICE_MESSAGE,
  });
}

/**
 * The routing rule of a menu's follow-up: the caller's route, read again, and the target of the key pressed. A
 * booking that ended meanwhile, or a key of no target, ends the call with the notice (never the out-of-session
 * route: this caller was a party of a live booking a moment ago).
 */
export function routeByChoice(digits: string | null | undefined) {
  return (virtualNumber: E164, route: Route | null): RoutingDecision => {
    const target = route ? chosenTarget(route.targets, digits) : null;
    if (!route || !target) return { kind: 'reject', reason: 'no_target' };
    return connectTo(virtualNumber, route, target);
  };
}
