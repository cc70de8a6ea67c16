import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { BookingStatus } from '../domain/booking';
import { BookingStatusAttribute, PartyRolesAttribute, VirtualNumberAttribute } from './contract';

const LIST_DEADLINE_MS = 5_000;
const BOOKING_PREFIX = 'booking-';

export interface BookingListFilter {
  status?: BookingStatus;
  virtualNumber?: string;
  /** Bookings one of whose parties has this role (bookings created before the attribute existed have none). */
  partyRole?: string;
  createdFrom?: Date;
  createdBefore?: Date;
}

/** A booking as Temporal's visibility lists it: what operators filter on, never a party. */
export interface BookingSummary {
  bookingId: string;
  status: BookingStatus | null;
  virtualNumber: string | null;
  createdAt: string | null;
  /** Whether its workflow still runs (a live booking, or one finishing its release or its last events). */
  running: boolean;
}

/**
 * Bookings from Temporal's visibility, newest first, a page at a time. Visibility is eventually consistent: a
 * booking appears, and its status changes, a moment after the fact. A bookingId refused and tried again is one
 * entry per run.
 */
export class BookingList {
  /** The deployment's task queue: a Temporal namespace may hold other deployments' bookings too. */
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async page(
    filter: BookingListFilter,
    limit: number,
    pageToken: Uint8Array | null,
  ): Promise<{ bookings: BookingSummary[]; nextPageToken: Uint8Array | null }> {
    const answer = await this.client.withDeadline(Date.now() + LIST_DEADLINE_MS, () =>
      this.client.workflowService.listWorkflowExecutions({
        namespace: this.client.options.namespace,
        pageSize: limit,
        query: visibilityQuery(filter, this.taskQueue),
        ...(pageToken ? { nextPageToken: pageToken } : {}),
      }),
    );
    const token = answer.nextPageToken && answer.nextPageToken.length > 0 ? answer.nextPageToken : null;
    return { bookings: (answer.executions ?? []).map(summaryOf), nextPageToken: token };
  }
}

/** Every value is validated at the edge; quoting stays as a second guard against a quote in one. */
function visibilityQuery(filter: BookingListFilter, taskQueue: string): string {
  const quote = (value: string) => JSON.stringify(value);
  const clauses = ['WorkflowType = "bookingWorkflow"', `TaskQueue = ${quote(taskQueue)}`];
  if (filter.status) clauses.push(`${BookingStatusAttribute.name} = ${quote(filter.status)}`);
  if (filter.virtualNumber) clauses.push(`${VirtualNumberAttribute.name} = ${quote(filter.virtualNumber)}`);
  // A keyword list matches when one of its values equals the one asked for.
  if (filter.partyRole) clauses.push(`${PartyRolesAttribute.name} = ${quote(filter.partyRole)}`);
  if (filter.createdFrom) clauses.push(`StartTime >= ${quote(filter.createdFrom.toISOString())}`);
  if (filter.createdBefore) clauses.push(`StartTime < ${quote(filter.createdBefore.toISOString())}`);
  return clauses.join(' AND ');
}

function summaryOf(execution: temporal.api.workflow.v1.IWorkflowExecutionInfo): BookingSummary {
  const fields = execution.searchAttributes?.indexedFields ?? {};
  const workflowId = execution.execution?.workflowId ?? '';
  const virtualNumber = keyword(fields[VirtualNumberAttribute.name]);
  const started = execution.startTime?.seconds;
  return {
    bookingId: workflowId.startsWith(BOOKING_PREFIX) ? workflowId.slice(BOOKING_PREFIX.length) : workflowId,
    status: (keyword(fields[BookingStatusAttribute.name]) as BookingStatus | null) ?? null,
    virtualNumber: virtualNumber === '' ? null : virtualNumber,
    createdAt:
      started === undefined || started === null
        ? null
        : new Date(Number(started) * 1000 + Math.floor((execution.startTime?.nanos ?? 0) / 1e6)).toISOString(),
    // WORKFLOW_EXECUTION_STATUS_RUNNING
    running: execution.status === 1,
  };
}

// A keyword search attribute is a JSON string (older servers wrap it in a list).
function keyword(payload: temporal.api.common.v1.IPayload | undefined): string | null {
  if (!payload) return null;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  const first = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof first === 'string' ? first : null;
}
