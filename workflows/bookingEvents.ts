import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import type { EventActivities, EventDeliveryResult } from '../activities/events';
import {
  pendingDelivery,
  type BookingEvent,
  type BookingEventBodies,
  type BookingEventRecord,
  type BookingEventType,
  type EventStream,
} from '../src/events/bookingEvents';
import {
  EVENT_NOT_FOUND,
  OUTBOX_CLOSED,
  bookingEventsQuery,
  bookingEventsWorkflowId,
  lateEventSignal,
  redeliverEventUpdate,
  type BookingEventsView,
  type LateEvent,
} from '../src/events/messages';

// One attempt is one POST (10 s at most); Temporal retries it with backoff for a day and an hour, so a receiver
// down for up to a day loses nothing, and one back after a long outage hears again within five minutes. The
// failure type of a 4xx other than 408/429 is not retried (activities/events.ts throws it non-retryable).
const { deliverBookingEvent } = proxyActivities<EventActivities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '25 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** A booking keeps the records of this many events; older settled ones are dropped (never one still owed). */
const MAX_EVENTS_KEPT = 200;
/** Keys of the call events already emitted, so 8x8's repeats emit nothing; as many as calls a booking keeps. */
const MAX_CALL_KEYS_KEPT = 400;

/** What an outbox hands to the run (or the events workflow) that continues it. */
export interface CarriedEvents {
  sequence: number;
  records: BookingEventRecord[];
  /** Ids of the events still to deliver, in order. */
  queue: string[];
  emittedKeys: string[];
}

/**
 * A booking's outbox: events are recorded in the workflow's state as they happen, and one delivery loop posts
 * them in that order, one at a time, each retried until it settles. Being workflow state, it survives worker
 * and server crashes; the booking's answers (and 8x8's call-action answers, which never touch Temporal) do not
 * wait for it.
 */
export class EventOutbox {
  private sequence: number;
  private readonly records: Map<string, BookingEventRecord>;
  private queue: string[];
  private readonly emittedKeys: Set<string>;
  private delivering = false;
  private closed = false;
  private handedOffTo: string | null = null;

  /**
   * `chainId` makes event ids unique (the booking chain's first run id); `enabled` is false for a booking run
   * that started before events existed, whose history must replay without them.
   */
  constructor(
    readonly stream: EventStream,
    private readonly chainId: string,
    readonly enabled: boolean,
    carried?: CarriedEvents,
  ) {
    this.sequence = carried?.sequence ?? 0;
    this.records = new Map((carried?.records ?? []).map((record) => [record.event.id, record]));
    this.queue = [...(carried?.queue ?? [])];
    this.emittedKeys = new Set(carried?.emittedKeys ?? []);
  }

  /** Records the event and queues its delivery; `onceKey`, when given, emits it at most once per booking. */
  emit<T extends BookingEventType>(type: T, data: BookingEventBodies[T], timestamp = new Date(), onceKey?: string) {
    if (!this.enabled) return;
    if (onceKey !== undefined) {
      if (this.emittedKeys.has(onceKey)) return;
      this.emittedKeys.add(onceKey);
      for (const key of this.emittedKeys) {
        if (this.emittedKeys.size <= MAX_CALL_KEYS_KEPT) break;
        this.emittedKeys.delete(key);
      }
    }
    this.sequence += 1;
    const event = {
      id: `evt_${this.chainId}_${this.sequence}`,
      type,
      bookingId: this.stream.bookingId,
      timestamp: timestamp.toISOString(),
      data,
    } as BookingEvent;
    this.records.set(event.id, { event, delivery: pendingDelivery() });
    this.queue.push(event.id);
    this.forgetOldest();
  }

  handleMessages(): void {
    if (!this.enabled) return;
    setHandler(bookingEventsQuery, () => this.view());
    // No command of its own: histories without the signal replay as before.
    setHandler(lateEventSignal, (late) => this.emitLate(late));
    setHandler(redeliverEventUpdate, (eventId) => this.redeliver(eventId), {
      validator: (eventId) => this.validateRedelivery(eventId),
    });
  }

  emitLate(late: LateEvent): void {
    this.emit(late.type, late.data, new Date(late.timestamp), late.onceKey);
  }

  /** Starts the delivery loop. Not cancellable: cancelling the booking must not cancel telling the platform so. */
  start(): void {
    if (!this.enabled) return;
    void CancellationScope.nonCancellable(() => this.deliverForever());
  }

  /** Every event emitted so far has settled (delivered, failed for good, or there was nowhere to send it). */
  settled(): boolean {
    return this.queue.length === 0 && !this.delivering;
  }

  /**
   * At the end of the booking: waits up to `waitMs` for the deliveries owed, then hands those still owed to an
   * events workflow of their own, so that the booking can end (its number is already back in the pool) while its
   * events go on being retried for as long as delivery allows.
   */
  async finish(waitMs: number): Promise<void> {
    if (!this.enabled) return;
    await condition(() => this.settled(), waitMs);
    await condition(allHandlersFinished);
    this.closed = true;
    if (this.settled()) return;
    const workflowId = bookingEventsWorkflowId(this.stream.bookingId, this.chainId);
    await startChild(bookingEventsWorkflow, {
      workflowId,
      args: [{ stream: this.stream, chainId: this.chainId, carried: this.carryOver() }],
      // The booking ends now; its events must not.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    this.handedOffTo = workflowId;
  }

  carryOver(): CarriedEvents {
    return {
      sequence: this.sequence,
      records: [...this.records.values()],
      queue: [...this.queue],
      emittedKeys: [...this.emittedKeys],
    };
  }

  view(): BookingEventsView {
    return {
      bookingId: this.stream.bookingId,
      chainId: this.chainId,
      stream: this.stream,
      sequence: this.sequence,
      events: [...this.records.values()],
      handedOffTo: this.handedOffTo,
      open: !this.closed,
      emittedKeys: [...this.emittedKeys],
    };
  }

  private async deliverForever(): Promise<never> {
    for (;;) {
      await condition(() => this.queue.length > 0);
      const eventId = this.queue[0]!;
      const record = this.records.get(eventId);
      this.delivering = true;
      try {
        if (record) this.settle(record, await this.deliver(record.event));
      } finally {
        this.delivering = false;
        this.queue.shift();
      }
    }
  }

  private async deliver(event: BookingEvent): Promise<Partial<BookingEventRecord['delivery']>> {
    // Nowhere to send it: no activity at all, so that a deployment without a receiver pays nothing per event.
    if (this.stream.deliver === false)
      return { status: 'not_configured', attempts: 0, responseStatus: null, error: null };
    try {
      const result: EventDeliveryResult = await deliverBookingEvent(this.stream, event);
      return result.status === 'delivered'
        ? { status: 'delivered', attempts: result.attempts, responseStatus: result.responseStatus, error: null }
        : { status: 'not_configured', attempts: result.attempts, responseStatus: null, error: null };
    } catch (error) {
      // Retries ran out (a day and an hour), or the receiver refused it for good.
      const cause = error instanceof ActivityFailure ? error.cause : error;
      const detail =
        cause instanceof ApplicationFailure ? (cause.details?.[0] as FailureDetail | undefined) : undefined;
      return {
        status: 'failed',
        attempts: detail?.attempts ?? 0,
        responseStatus: detail?.responseStatus ?? null,
        error: cause instanceof Error ? cause.message : 'delivery failed',
      };
    }
  }

  private settle(record: BookingEventRecord, outcome: Partial<BookingEventRecord['delivery']>): void {
    record.delivery = { ...record.delivery, ...outcome, settledAt: new Date().toISOString() };
  }

  private validateRedelivery(eventId: string): void {
    if (this.closed) {
      throw ApplicationFailure.create({ type: OUTBOX_CLOSED, message: 'the booking has ended', nonRetryable: true });
    }
    if (!this.records.has(eventId)) {
      throw ApplicationFailure.create({ type: EVENT_NOT_FOUND, message: `no event ${eventId}`, nonRetryable: true });
    }
  }

  private redeliver(eventId: string): BookingEventRecord {
    this.requeue(eventId);
    return this.records.get(eventId)!;
  }

  /** Sends the event again, after those already owed; its id stays, so receivers that dedupe see it once. */
  requeue(eventId: string): void {
    const record = this.records.get(eventId);
    if (record && !this.queue.includes(eventId)) {
      record.delivery = pendingDelivery(record.delivery.redeliveries + 1);
      this.queue.push(eventId);
    }
  }

  private forgetOldest(): void {
    for (const [eventId, record] of this.records) {
      if (this.records.size <= MAX_EVENTS_KEPT) break;
      if (record.delivery.status !== 'pending' && !this.queue.includes(eventId)) this.records.delete(eventId);
    }
  }
}

interface FailureDetail {
  responseStatus: number | null;
  attempts: number;
}

export interface BookingEventsInput {
  stream: EventStream;
  chainId: string;
  carried: CarriedEvents;
  /** An event to send again (a redelivery asked for after the booking and its events had settled). */
  redeliver?: string;
  /** An event learnt of after the booking and its events had settled (a late caller turned away). */
  late?: LateEvent;
}

/**
 * A booking's events after the booking itself has ended: the deliveries it still owed, and any redelivery asked
 * for later. Ends once every event has settled.
 */
export async function bookingEventsWorkflow(input: BookingEventsInput): Promise<BookingEventsView> {
  const outbox = new EventOutbox(input.stream, input.chainId, true, input.carried);
  outbox.handleMessages();
  if (input.redeliver !== undefined) outbox.requeue(input.redeliver);
  if (input.late !== undefined) outbox.emitLate(input.late);
  outbox.start();
  await condition(() => outbox.settled() && allHandlersFinished());
  return outbox.view();
}
