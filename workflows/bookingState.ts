import { ApplicationFailure, condition, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Holder } from '../src/domain/allocation';
import { isEnded, isSameBooking, type BookingRequest, type BookingStatus } from '../src/domain/booking';
import { callRecords, recordCallEvent, type CallEntry, type CallHistory } from '../src/domain/callHistory';
import {
  BookingFailure,
  BookingStatusAttribute,
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

/** A booking keeps this many calls; older ones stay in the store's call records only. */
const MAX_CALLS_KEPT = 100;

/** What a booking run hands to the run that continues it (continue-as-new keeps its history bounded). */
export interface CarriedBooking {
  holder: Holder;
  status: BookingStatus;
  virtualNumber: string | null;
  closeRequest: CloseAction | null;
  graceEndsAt: string | null;
  confirmations: number;
  calls: CallEntry[];
  createdAt: string;
  expiresAt: string;
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
  refusal: RefusalReason | null = null;
  closeRequest: CloseAction | null;
  graceEndsAt: Date | null;
  endedAt: Date | null = null;
  numberReleased = false;
  private confirmations: number;
  private readonly calls: CallHistory;

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
    this.closeRequest = carried?.closeRequest ?? null;
    this.graceEndsAt = carried?.graceEndsAt ? new Date(carried.graceEndsAt) : null;
    this.confirmations = carried?.confirmations ?? 0;
    this.calls = new Map((carried?.calls ?? []).map((call) => [call.sessionId, call]));
  }

  handleMessages(): void {
    setHandler(bookingStateQuery, () => this.view());
    setHandler(confirmBookingUpdate, () => this.confirm(), { validator: (repeat) => this.validateRepeat(repeat) });
    setHandler(closeBookingUpdate, (action) => this.close(action), {
      validator: (action) => this.validateClose(action),
    });
    setHandler(callEventSignal, (event) => this.recordCall(event));
  }

  view(): BookingView {
    return {
      bookingId: this.request.bookingId,
      status: this.status,
      virtualNumber: this.virtualNumber,
      parties: this.request.parties,
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
      closeRequest: this.closeRequest,
      graceEndsAt: this.graceEndsAt?.toISOString() ?? null,
      confirmations: this.confirmations,
      calls: [...this.calls.values()],
      createdAt: this.createdAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
    };
  }

  /** Operators filter on these in the Temporal UI; never a party's number. */
  publishStatus(): void {
    upsertSearchAttributes([
      { key: BookingStatusAttribute, value: this.status },
      { key: VirtualNumberAttribute, value: this.virtualNumber ?? '' },
    ]);
  }

  msUntilExpiry(): number {
    return this.expiresAt.getTime() - Date.now();
  }

  msUntilGraceEnds(): number {
    return (this.graceEndsAt?.getTime() ?? Date.now()) - Date.now();
  }

  activate(virtualNumber: string): void {
    this.virtualNumber = virtualNumber;
    this.status = 'active';
  }

  refuse(reason: RefusalReason): void {
    this.refusal = reason;
    this.status = 'refused';
    this.endedAt = new Date();
  }

  startGrace(): void {
    this.graceEndsAt = new Date(Date.now() + this.request.gracePeriodSeconds * 1000);
  }

  end(status: 'expired' | 'completed' | 'cancelled'): void {
    this.status = status;
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
      this.status = 'cancelled';
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
    // The oldest go first: a Map keeps insertion order.
    for (const sessionId of this.calls.keys()) {
      if (this.calls.size <= MAX_CALLS_KEPT) break;
      this.calls.delete(sessionId);
    }
  }
}
