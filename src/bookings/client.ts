import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isSameBooking, type BookingRequest, type BookingStatus } from '../domain/booking';
import { bookingWorkflow } from '../../workflows/booking';
import {
  BookingStatusAttribute,
  bookingStateQuery,
  bookingWorkflowId,
  callEventSignal,
  closeBookingUpdate,
  confirmBookingUpdate,
  type BookingView,
  type CallEventSignal,
  type CloseAction,
} from './contract';
import { BookingError, isBookingErrorCode } from './errors';
import type { TemporalReachability } from '../temporal/reachability';
import { detailTypes, isTransientRefusal } from '../temporal/serviceErrors';

/** Allocation normally takes well under a second; past this the platform is told to retry (it is idempotent). */
const CREATE_DEADLINE_MS = 10_000;
const CALL_DEADLINE_MS = 5_000;
/**
 * A call unanswered this long has us ask whether Temporal is there at all, so that the requests made as it goes
 * away hear "try again" after a few seconds rather than at their deadline.
 */
const ASK_AFTER_MS = 2_000;

/**
 * The typed client of booking workflows: what the HTTP API is built on, and what a booking platform with a
 * Temporal client of its own may use directly.
 */
export class BookingClient {
  /**
   * `reachability`, when given, lets calls made while Temporal is known to be down fail at once, and abandons the
   * calls still waiting when it is found down (see TemporalReachability); without it every call waits for its own
   * deadline. `askAfterMs`: how long a call waits before we ask.
   */
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly reachability: Pick<TemporalReachability, 'reachable' | 'suspect' | 'onDown'> | null = null,
    private readonly askAfterMs = ASK_AFTER_MS,
  ) {}

  /**
   * Creates the booking and waits until it holds a virtual number (update-with-start, so the answer carries
   * the VN). Repeating the request returns the same booking with `created: false`.
   */
  async create(request: BookingRequest): Promise<{ created: boolean; booking: BookingView }> {
    const workflowId = bookingWorkflowId(request.bookingId);
    const startWorkflowOperation = new WithStartWorkflowOperation(bookingWorkflow, {
      workflowId,
      taskQueue: this.taskQueue,
      args: [request],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // A refused booking fails its run, so the platform may try the same bookingId again later;
      // a booking that ran its course is final.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [{ key: BookingStatusAttribute, value: 'allocating' }],
    });
    try {
      return await this.withDeadline(CREATE_DEADLINE_MS, () =>
        this.client.workflow.executeUpdateWithStart(confirmBookingUpdate, { args: [request], startWorkflowOperation }),
      );
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return this.repeatOfEndedBooking(request);
      throw translate(error, request.bookingId);
    }
  }

  /** The booking's state, or null when there is no such booking. */
  async get(bookingId: string): Promise<BookingView | null> {
    const workflowId = bookingWorkflowId(bookingId);
    try {
      return await this.withDeadline(CALL_DEADLINE_MS, async () => {
        const { runId, status } = await this.client.workflow.getHandle(workflowId).describe();
        // An ended booking is read from its run's result, which Temporal keeps: a query would have a worker replay
        // the whole history, so reads would wait on workers that are busy, down, or just killed while the booking
        // was cached on them (its query then waits out the sticky queue's timeout). The run is named, so a new
        // booking under the same id started meanwhile is not waited for.
        const run = this.client.workflow.getHandle<typeof bookingWorkflow>(workflowId, runId, { followRuns: false });
        if (status.name === 'COMPLETED') return await run.result();
        return await run.query(bookingStateQuery);
      });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw translate(error, bookingId);
    }
  }

  async complete(bookingId: string): Promise<BookingStatus> {
    return this.close(bookingId, 'complete');
  }

  async cancel(bookingId: string): Promise<BookingStatus> {
    return this.close(bookingId, 'cancel');
  }

  /** Tells the booking about a call. Throws BookingError('booking_not_found') when it has ended or never was. */
  async recordCallEvent(bookingId: string, event: CallEventSignal): Promise<void> {
    try {
      await this.withDeadline(CALL_DEADLINE_MS, () =>
        this.client.workflow.getHandle(bookingWorkflowId(bookingId)).signal(callEventSignal, event),
      );
    } catch (error) {
      throw translate(error, bookingId);
    }
  }

  private async close(bookingId: string, action: CloseAction): Promise<BookingStatus> {
    const handle = this.client.workflow.getHandle(bookingWorkflowId(bookingId));
    try {
      const { status } = await this.withDeadline(CALL_DEADLINE_MS, () =>
        handle.executeUpdate(closeBookingUpdate, { args: [action] }),
      );
      return status;
    } catch (error) {
      if (isNotFound(error)) {
        // Updates only reach running workflows: an ended booking is "closed", an unknown one "not found".
        if (await this.get(bookingId))
          throw new BookingError('booking_closed', `booking ${bookingId} has already ended`);
      }
      throw translate(error, bookingId);
    }
  }

  /**
   * Every run the booking's workflow has had (a refused run may be followed by another), and whether it is
   * still running. Visibility lags behind both a new run and a deleted one, so each run is read directly.
   */
  async runs(bookingId: string): Promise<{ runId: string; running: boolean }[]> {
    const workflowId = bookingWorkflowId(bookingId);
    const describe = (runId?: string) =>
      this.client.workflow
        .getHandle(workflowId, runId)
        .describe()
        .catch((error: unknown) => (isNotFound(error) ? null : Promise.reject(error)));
    try {
      return await this.withDeadline(CALL_DEADLINE_MS, async () => {
        const runIds = new Set<string | undefined>([undefined]);
        for await (const run of this.client.workflow.list({ query: `WorkflowId = ${JSON.stringify(workflowId)}` })) {
          runIds.add(run.runId);
        }
        const runs = new Map<string, boolean>();
        for (const runId of runIds) {
          const run = await describe(runId);
          if (run) runs.set(run.runId, run.status.name === 'RUNNING');
        }
        return [...runs].map(([runId, running]) => ({ runId, running }));
      });
    } catch (error) {
      throw translate(error, bookingId);
    }
  }

  /** Deletes these runs' histories from Temporal (the server does it in the background). */
  async deleteRuns(bookingId: string, runIds: string[]): Promise<void> {
    const workflowId = bookingWorkflowId(bookingId);
    try {
      for (const runId of runIds) {
        await this.withDeadline(CALL_DEADLINE_MS, () =>
          this.client.workflowService
            .deleteWorkflowExecution({
              namespace: this.client.options.namespace,
              workflowExecution: { workflowId, runId },
            })
            .catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error))),
        );
      }
    } catch (error) {
      throw translate(error, bookingId);
    }
  }

  /**
   * Bounds every call, so a Temporal outage is a prompt 503 for the platform rather than a hung request; once the
   * outage is known, the 503 comes without trying.
   */
  private async withDeadline<T>(ms: number, call: () => Promise<T>): Promise<T> {
    const reachability = this.reachability;
    const unreachable = () =>
      new BookingError('temporal_unavailable', 'the booking service cannot reach Temporal, try again');
    if (!reachability) return this.client.withDeadline(Date.now() + ms, call);
    if (!reachability.reachable) throw unreachable();

    // Abandoned when Temporal is found down: the answer does not wait for the call, which the SDK may go on
    // retrying until its deadline; whatever it did meanwhile, the platform's retry of the same request finds.
    const abandon = new AbortController();
    let stopListening = () => {};
    const abandoned = new Promise<never>((_resolve, reject) => {
      stopListening = reachability.onDown(() => {
        reject(unreachable());
        abandon.abort();
      });
    });
    const attempt = this.client.withAbortSignal(abandon.signal, () => this.client.withDeadline(Date.now() + ms, call));
    attempt.catch(() => {}); // its failure after being abandoned is nobody's to handle
    const ask = setTimeout(() => reachability.suspect(), this.askAfterMs);
    try {
      return await Promise.race([attempt, abandoned]);
    } catch (error) {
      if (isUnavailable(error)) reachability.suspect();
      throw error;
    } finally {
      clearTimeout(ask);
      stopListening();
    }
  }

  /** The bookingId belongs to a booking that has ended: the same request sees it again, another is a conflict. */
  private async repeatOfEndedBooking(request: BookingRequest) {
    const booking = await this.get(request.bookingId);
    if (!booking) throw new BookingError('booking_not_found', `booking ${request.bookingId} could not be read`);
    if (!isSameBooking(request, booking)) {
      throw new BookingError('booking_conflict', `booking ${request.bookingId} exists with other parties`);
    }
    return { created: false, booking };
  }
}

/**
 * Temporal says the booking's workflow is not there (never was, deleted) or has completed. Decided from the SDK's
 * typed error, or, on a raw service call, from a NOT_FOUND status whose details name the workflow: never from an
 * error's text, which also says "not found" for a namespace that does not exist, and then the booking may well
 * be live (a call event taken for "the booking has ended" would be dropped).
 */
function isNotFound(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  return isGrpcServiceError(error) && error.code === 5 && detailTypes(error).includes(WORKFLOW_NOT_FOUND);
}

const WORKFLOW_NOT_FOUND = 'temporal.api.errordetails.v1.NotFoundFailure';

/**
 * The outcome Temporal gives an update that reached a worker whose workflow task completed without accepting or
 * rejecting it (a worker replaced mid-task): the handler never ran, and the same update succeeds when sent again.
 */
const UNPROCESSED_UPDATE = 'UnprocessedUpdate';

/** Temporal could not be reached (or did not answer in time), whichever wrapper the SDK put around it. */
function isUnavailable(error: unknown): boolean {
  // An update past our deadline (no worker ran it in time: all down, or busy) surfaces as this, with the gRPC
  // status CANCELLED inside; the update is durable, so the platform's retry finds it.
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  if (error instanceof WorkflowUpdateFailedError && failureType(error) === UNPROCESSED_UPDATE) return true;
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    // Temporal unreachable or busy, or the workflow task that carried the request failed under it (its worker
    // died): nothing ran, and the same request succeeds once a worker is back (src/temporal/serviceErrors.ts).
    if (isTransientRefusal(cause)) return true;
    if (/deadline exceeded|failed to connect|connection refused|unavailable/i.test(cause.message)) return true;
  }
  return false;
}

function translate(error: unknown, bookingId: string): Error {
  if (error instanceof BookingError) return error;
  // The workflow's refusals carry their code as the failure's type (BookingFailure).
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    const type = error.cause.type;
    if (isBookingErrorCode(type)) return new BookingError(type, error.cause.message);
  }
  if (isNotFound(error)) return new BookingError('booking_not_found', `no booking ${bookingId}`);
  if (isUnavailable(error))
    return new BookingError('temporal_unavailable', 'the booking service is unavailable, try again');
  // The SDK's errors say only "Workflow Update failed"; the failure or gRPC status under it tells the cause.
  if (error instanceof WorkflowUpdateFailedError) {
    const cause =
      error.cause instanceof Error ? `${failureType(error) ?? error.cause.name}: ${error.cause.message}` : '';
    return new Error(`${error.message} (${cause || 'no cause given'})`, { cause: error });
  }
  const grpc = error instanceof Error && isGrpcServiceError(error.cause) ? error.cause : null;
  if (grpc) return new Error(`${(error as Error).message} (gRPC ${grpc.code}: ${grpc.details})`, { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

function failureType(error: WorkflowUpdateFailedError): string | undefined {
  return error.cause instanceof ApplicationFailure ? (error.cause.type ?? undefined) : undefined;
}
