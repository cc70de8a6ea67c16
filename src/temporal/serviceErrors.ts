import { isGrpcServiceError } from '@temporalio/client';
import { google } from '@temporalio/proto';

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
    const status = google.rpc.Status.decode(encoded);
    return (status.details ?? []).map((detail) => (detail.type_url ?? '').replace(/^.*\//, ''));
  } catch {
    return [];
  }
}

/** Whether a gRPC refusal from Temporal is one to answer "try again" (503), not an error of ours. */
export function isTransientRefusal(error: unknown): boolean {
  if (!isGrpcServiceError(error)) return false;
  if (TRANSIENT_CODES.has(error.code)) return true;
  if (detailTypes(error).some((type) => TRANSIENT_DETAILS.has(type))) return true;
  return error.code === 9 /* FAILED_PRECONDITION */ && WORKFLOW_NOT_READY.test(error.details);
}
