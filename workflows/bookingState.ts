import {
  ApplicationFailure,
  condition,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Holder } from '../src/domain/allocation';
import { isEnded, isSameBooking, targetsOf, type BookingRequest, type BookingStatus } from '../src/domain/booking';
import {
  callRecords,
  chosenCallee,
  recordCallEvent,
  type CallEntry,
  type CallHistory,
} from '../src/domain/callHistory';
import {
  BookingFailure,
  BookingStatusAttribute,
  PartyRolesAttribute,
  VirtualNumberAttribute,
  bookingStateQuery,
  callEventSignal,
  closeBookingUpdate,
  confirmBookingUpdate,
  type BookingView,
  type CallEventSignal,
  type CloseAction,
  type RefusalReason,
} from '../src/bookings/contract';
import { callOutcomeOf, type EventParty } from '../src/events/bookingEvents';
import { EventOutbox, type CarriedEvents } from './bookingEvents';

/** Runs started before events existed replay without them (see test/workflows.replay.test.ts). */
const BOOKING_EVENTS_PATCH = 'booking-events';
/** Runs started before the party-role search attribute replay without it. */
const PARTY_ROLES_PATCH = 'booking-party-roles';

/** Runs started before recordings existed replay without their events. */
const CALL_RECORDINGS_PATCH = 'call-recordings';

/** A booking keeps this many calls; older ones stay in the store's call records only. */
const MAX_CALLS_KEPT = 100;

/** What a booking run hands to the run that continues it (continue-as-new keeps its history bounded). */
export interface CarriedBooking {
  holder: Holder;
  status: BookingStatus;
  virtualNumber: string | null;
  /** The booking's PIN when it holds a number of the PIN set (PIN fallback). */
  pin?: string;
  closeRequest: CloseAction | null;
  graceEndsAt: string | null;
  confirmations: number;
  calls: CallEntry[];
  createdAt: string;
  expiresAt: string;
  events?: CarriedEvents;
}

/**
 * The booking's state and its message handlers: what the platform asks (confirm, close), what 8x8 tells (call
 * events), what operators read (the view). The workflow function tells the story; this is what it reads and
 * changes on the way.
 */
export class BookingState {
  readonly holder: Holder;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  status: BookingStatus;
  virtualNumber: string | null;
  /** Set when the booking shares a number of the PIN set: its callers enter this PIN. */
  pin: string | null;
  refusal: RefusalReason | null = null;
  closeRequest: CloseAction | null;
  graceEndsAt: Date | null;
  endedAt: Date | null = null;
  numberReleased = false;
  private confirmations: number;
  private readonly calls: CallHistory;
  /** What the platform is told of this booking, delivered in order (workflows/bookingEvents.ts). */
  readonly events: EventOutbox;

  constructor(
    readonly request: BookingRequest,
    carried: CarriedBooking | undefined,
  ) {
    const info = workflowInfo();
    // The run identity every claim and lease carries: the chain's first run, so the same across continue-as-new.
    this.holder = carried?.holder ?? {
      bookingId: request.bookingId,
      run: info.firstExecutionRunId,
      runStartedAt: info.startTime.getTime(),
    };
    this.createdAt = carried ? new Date(carried.createdAt) : info.startTime;
    this.expiresAt = carried
      ? new Date(carried.expiresAt)
      : new Date(this.createdAt.getTime() + request.expiresInSeconds * 1000);
    this.status = carried?.status ?? 'allocating';
    this.virtualNumber = carried?.virtualNumber ?? null;
    this.pin = carried?.pin ?? null;
    this.closeRequest = carried?.closeRequest ?? null;
    this.graceEndsAt = carried?.graceEndsAt ? new Date(carried.graceEndsAt) : null;
    this.confirmations = carried?.confirmations ?? 0;
    this.calls = new Map((carried?.calls ?? []).map((call) => [call.sessionId, call]));
    this.events = new EventOutbox(
      {
        bookingId: request.bookingId,
        callbackUrl: request.callbackUrl ?? null,
        ...(request.eventDelivery === false ? { deliver: false } : {}),
      },
      this.holder.run || info.firstExecutionRunId,
      patched(BOOKING_EVENTS_PATCH),
      carried?.events,
    );
  }

  handleMessages(): void {
    setHandler(bookingStateQuery, () => this.view());
    setHandler(confirmBookingUpdate, () => this.confirm(), { validator: (repeat) => this.validateRepeat(repeat) });
    setHandler(closeBookingUpdate, (action) => this.close(action), {
      validator: (action) => this.validateClose(action),
    });
    setHandler(callEventSignal, (event) => this.recordCall(event));
    this.events.handleMessages();
  }

  view(): BookingView {
    return {
      bookingId: this.request.bookingId,
      status: this.status,
      virtualNumber: this.virtualNumber,
      ...(this.pin !== null ? { mode: 'pin' as const, pin: this.pin } : {}),
      parties: this.request.parties,
      ...(this.request.reach ? { reach: this.request.reach } : {}),
      createdAt: this.createdAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      gracePeriodSeconds: this.request.gracePeriodSeconds,
      graceEndsAt: this.graceEndsAt?.toISOString() ?? null,
      endedAt: this.endedAt?.toISOString() ?? null,
      numberReleased: this.numberReleased,
      refusal: this.refusal,
      calls: callRecords(this.calls),
    };
  }

  carryOver(): CarriedBooking {
    return {
      holder: this.holder,
      status: this.status,
      virtualNumber: this.virtualNumber,
      ...(this.pin !== null ? { pin: this.pin } : {}),
      closeRequest: this.closeRequest,
      graceEndsAt: this.graceEndsAt?.toISOString() ?? null,
      confirmations: this.confirmations,
      calls: [...this.calls.values()],
      createdAt: this.createdAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      events: this.events.carryOver(),
    };
  }

  /** Operators filter on these in the Temporal UI; never a party's number. */
  publishStatus(): void {
    upsertSearchAttributes([
      { key: BookingStatusAttribute, value: this.status },
      { key: VirtualNumberAttribute, value: this.virtualNumber ?? '' },
      ...(patched(PARTY_ROLES_PATCH)
        ? [{ key: PartyRolesAttribute, value: this.request.parties.map((party) => party.role) }]
        : []),
    ]);
  }

  msUntilExpiry(): number {
    return this.expiresAt.getTime() - Date.now();
  }

  msUntilGraceEnds(): number {
    return (this.graceEndsAt?.getTime() ?? Date.now()) - Date.now();
  }

  activate(virtualNumber: string, pin?: string): void {
    this.virtualNumber = virtualNumber;
    this.pin = pin ?? null;
    this.status = 'active';
    this.events.emit('booking.active', {
      virtualNumber,
      ...(pin !== undefined ? { mode: 'pin' as const, pin } : {}),
      expiresAt: this.expiresAt.toISOString(),
      parties: this.request.parties.map((party) => this.eventParty(party.role)!),
    });
  }

  refuse(reason: RefusalReason): void {
    this.refusal = reason;
    this.status = 'refused';
    this.endedAt = new Date();
    this.events.emit('booking.refused', { reason });
  }

  startGrace(): void {
    this.graceEndsAt = new Date(Date.now() + this.request.gracePeriodSeconds * 1000);
    this.events.emit('booking.completing', { graceEndsAt: this.graceEndsAt.toISOString() });
  }

  end(status: 'expired' | 'completed' | 'cancelled'): void {
    this.status = status;
    if (status === 'expired') this.events.emit('booking.expired', { expiredAt: new Date().toISOString() });
    else if (status === 'completed') this.events.emit('booking.completed', {});
    else this.events.emit('booking.cancelled', {}, new Date(), 'booking.cancelled');
  }

  numberGivenBack(): void {
    this.numberReleased = true;
    this.endedAt ??= new Date();
  }

  // --- handlers --------------------------------------------------------------------------------------------

  /** The platform's request, first or repeated: answered once the allocation has an outcome. */
  private async confirm() {
    this.confirmations += 1;
    const first = this.confirmations === 1;
    await condition(() => this.status !== 'allocating');
    if (this.status === 'refused') {
      throw ApplicationFailure.create({
        type: this.refusal ?? BookingFailure.noNumber,
        message:
          this.refusal === BookingFailure.allocationFailed
            ? 'allocation failed, try again'
            : 'no virtual number is free for both parties',
        nonRetryable: true,
      });
    }
    return { created: first, booking: this.view() };
  }

  private validateRepeat(repeat: BookingRequest): void {
    if (!isSameBooking(this.request, repeat)) {
      throw ApplicationFailure.create({
        type: BookingFailure.conflict,
        message: `booking ${this.request.bookingId} exists with other parties`,
        nonRetryable: true,
      });
    }
  }

  private async close(action: CloseAction) {
    await condition(() => this.status !== 'allocating');
    if (action === 'cancel' && this.status !== 'cancelled') {
      this.closeRequest = 'cancel';
      this.end('cancelled');
    } else if (action === 'complete' && this.status === 'active') {
      this.closeRequest = 'complete';
      this.status = 'completing';
    }
    return { status: this.status };
  }

  private validateClose(action: CloseAction): void {
    // Repeating the close that is already under way is harmless; anything else on an ended booking is not.
    const repeat =
      (action === 'cancel' && this.status === 'cancelled') || (action === 'complete' && this.status === 'completing');
    if ((isEnded(this.status) && !repeat) || (action === 'complete' && this.status === 'cancelled')) {
      throw ApplicationFailure.create({
        type: BookingFailure.closed,
        message: `booking ${this.request.bookingId} has already ended (${this.status})`,
        nonRetryable: true,
      });
    }
  }

  /** A call event, merged into the booking's calls whatever order it comes in (src/domain/callHistory.ts). */
  private recordCall(event: CallEventSignal): void {
    recordCallEvent(this.calls, event);
    this.emitCallEvent(event);
    // The oldest go first: a Map keeps insertion order.
    for (const sessionId of this.calls.keys()) {
      if (this.calls.size <= MAX_CALLS_KEPT) break;
      this.calls.delete(sessionId);
    }
  }

  /** call.connected at the session's first CALL_CONNECTED, call.ended at its summary; 8x8's repeats emit nothing. */
  private emitCallEvent(event: CallEventSignal): void {
    const callerRole = this.calls.get(event.sessionId)?.earliestWithRole?.callerRole ?? event.callerRole;
    const caller = callerRole === null ? null : this.eventParty(callerRole);
    // The one party the caller may reach (the other of two); of several, the one chosen, as the session recorded it.
    const targets = callerRole === null ? [] : targetsOf(this.request, callerRole);
    const calleeRole =
      targets.length === 1 ? targets[0]!.role : (chosenOf(this.calls.get(event.sessionId)) ?? event.calleeRole);
    const callee = calleeRole === undefined ? null : this.eventParty(calleeRole);
    const at = validDate(event.at) ?? new Date();
    if (event.kind === 'status' && event.status === 'CALL_CONNECTED') {
      const connectedAt = at.toISOString();
      const body = { sessionId: event.sessionId, caller, callee, connectedAt };
      this.events.emit('call.connected', body, at, `connected:${event.sessionId}`);
    } else if (event.kind === 'summary') {
      const body = {
        sessionId: event.sessionId,
        caller,
        callee,
        outcome: callOutcomeOf(event.status),
        sessionStatus: event.status,
        startedAt: event.startedAt ?? null,
        endedAt: event.endedAt ?? null,
        durationSeconds: event.durationSeconds ?? null,
      };
      this.events.emit('call.ended', body, at, `ended:${event.sessionId}`);
    } else if (event.kind === 'recording' && event.recording && patched(CALL_RECORDINGS_PATCH)) {
      const { recordingId, status, fileUrl, durationSeconds, startedAt } = event.recording;
      const body = {
        sessionId: event.sessionId,
        caller,
        callee,
        recordingId,
        status,
        fileUrl,
        durationSeconds,
        startedAt,
      };
      this.events.emit('call.recording_available', body, at, `recording:${event.sessionId}:${recordingId}`);
    }
  }

  /** A party as events name it: by role, and by number only where the deployment asked for that. */
  private eventParty(role: string): EventParty | null {
    const party = this.request.parties.find((candidate) => candidate.role === role);
    if (!party) return null;
    return this.request.eventNumbers ? { role, number: party.number } : { role };
  }
}

function chosenOf(entry: CallEntry | undefined): string | undefined {
  return entry ? chosenCallee(entry) : undefined;
}

function validDate(text: string): Date | null {
  const time = Date.parse(text);
  return Number.isNaN(time) ? null : new Date(time);
}
