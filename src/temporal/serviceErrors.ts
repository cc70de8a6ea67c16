import { isGrpcServiceError } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';

/**
 * Temporal's gRPC refusals, read by what they are rather than by their wording. The server attaches a typed
 * detail to most (`grpc-status-details-bin`: a google.rpc.Status whose details name e.g.
 * `temporal.api.errordetails.v1.WorkflowNotReadyFailure`); its messages change between versions and are kept
 * below only for a server that sends no detail.
 */

const TRANSIENT_CODES = new Set([
  1 /* CANCELLED: our own deadline or abort, Temporal may still do it */, 4 /* DEADLINE_EXCEEDED */,
  8 /* RESOURCE_EXHAUSTED: too many requests, or updates in flight on one workflow */, 14 /* UNAVAILABLE */,
]);

/** Typed details of a refusal that the same request, sent again a little later, gets past. */
const TRANSIENT_DETAILS = new Set([
  // The workflow task carrying the request failed (its worker died, a speculative task was lost): nothing ran.
  'temporal.api.errordetails.v1.WorkflowNotReadyFailure',
  'temporal.api.errordetails.v1.ResourceExhaustedFailure',
]);

/** The same refusal from a server that sends no detail, in the wordings seen so far. */
const WORKFLOW_NOT_READY =
  /unexpected workflow task failure|workflow task in failed state|workflow is not ready to handle the request/i;

/** The type names of the details a gRPC error carries (empty when it carries none). */
export function detailTypes(error: unknown): string[] {
  if (!isGrpcServiceError(error)) return [];
  const metadata = (error as { metadata?: { get?: (key: string) => unknown[] } }).metadata;
  const [encoded] = metadata?.get?.('grpc-status-details-bin') ?? [];
  if (!(encoded instanceof Uint8Array)) return [];
  try {
    return typesOf(google.rpc.Status.decode(encoded).details ?? []);
  } catch {
    return [];
  }
}

const MULTI_OPERATION = 'temporal.api.errordetails.v1.MultiOperationExecutionFailure';

/**
 * The type names of the details, and for an update-with-start refused as a whole (MultiOperationExecutionFailure)
 * those of each operation's own status, where the reason is (the update's WorkflowNotReadyFailure, say).
 */
function typesOf(details: readonly google.protobuf.IAny[]): string[] {
  return details.flatMap((detail) => {
    const type = (detail.type_url ?? '').replace(/^.*\//, '');
    if (type !== MULTI_OPERATION || !detail.value) return [type];
    const { statuses } = temporal.api.errordetails.v1.MultiOperationExecutionFailure.decode(detail.value);
    return [type, ...typesOf(statuses.flatMap((status) => status.details ?? []))];
  });
}

/** Whether a gRPC refusal from Temporal is one to answer "try again" (503), not an error of ours. */
export function isTransientRefusal(error: unknown): boolean {
  if (!isGrpcServiceError(error)) return false;
  if (TRANSIENT_CODES.has(error.code)) return true;
  if (detailTypes(error).some((type) => TRANSIENT_DETAILS.has(type))) return true;
  // The SDK puts an update-with-start operation's own message in `message`, the server's in `details`.
  return error.code === 9 /* FAILED_PRECONDITION */ && WORKFLOW_NOT_READY.test(`${error.details} ${error.message}`);
}

/**
 * Whether an error, or one it wraps (the SDK's ServiceError around a gRPC one, say), is a transient refusal.
 */
export function isTransientAnywhere(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (isTransientRefusal(cause)) return true;
  }
  return false;
}
