/**
 * The messages of a booking's event outbox, defined once for the workflows that hold one (the booking's, then the
 * events workflow it hands undelivered events to) and for their clients. Deterministic code only.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BookingEventBodies, BookingEventRecord, EventStream } from './bookingEvents';

export interface BookingEventsView {
  bookingId: string;
  /** The booking chain's first run id: the stem of its event ids and of its events workflow's id. */
  chainId: string;
  stream: EventStream;
  /** How many events the booking has emitted. */
  sequence: number;
  /** Oldest first: the order they were emitted and are delivered in. */
  events: BookingEventRecord[];
  /** The events workflow that took over the deliveries still owed when the booking ended, if one did. */
  handedOffTo: string | null;
  /** Whether this outbox still takes redeliveries (false: ask the events workflow). */
  open: boolean;
  /**
   * The `onceKey`s of the late events it has emitted, so that an events workflow started again from this view
   * emits none of them twice. Absent from the views of outboxes older than it (none emitted once-only events then
   * either, or they are lost from this list: a repeat may then record one more).
   */
  emittedKeys?: string[];
}

/** The events workflow of one booking chain: it delivers what the booking could not before it ended. */
export function bookingEventsWorkflowId(bookingId: string, chainId: string): string {
  return `booking-events-${bookingId}-${chainId}`;
}

/** An outbox that has ended refuses redeliveries with this failure type; they go to its events workflow. */
export const OUTBOX_CLOSED = 'event_outbox_closed';
export const EVENT_NOT_FOUND = 'event_not_found';

export const bookingEventsQuery = defineQuery<BookingEventsView>('bookingEvents');
export const redeliverEventUpdate = defineUpdate<BookingEventRecord, [string]>('redeliverEvent');

/**
 * An event of a booking that has ended, learnt of afterwards (a late caller turned away): emitted by whichever
 * workflow holds the booking's outbox, once per `onceKey`.
 */
export interface LateEvent {
  type: 'call.turned_away';
  data: BookingEventBodies['call.turned_away'];
  timestamp: string;
  onceKey: string;
}

export const lateEventSignal = defineSignal<[LateEvent]>('lateEvent');
