import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ApplicationFailure,
  NamespaceNotFoundError,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';
import fc from 'fast-check';
import { BookingClient } from '../src/bookings/client';
import { BookingError } from '../src/bookings/errors';
import { TemporalReachability } from '../src/temporal/reachability';

// How the booking client reads Temporal's failures that a real cluster shows only now and then (found by
// `npm run chaos`): each is an answer the platform can act on, never an unexplained 500.

/** A gRPC error as @grpc/grpc-js makes it, with the typed details Temporal attaches, if any. */
function grpcError(code: number, details: string, detailTypes: string[] = []): Error {
  const status = google.rpc.Status.encode({
    code,
    message: details,
    details: detailTypes.map((type) => ({ type_url: `type.googleapis.com/${type}`, value: new Uint8Array() })),
  }).finish();
  const metadata = {
    get: (key: string) => (key === 'grpc-status-details-bin' && detailTypes.length > 0 ? [status] : []),
  };
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

/** A Temporal client whose every update fails with `error`; `calls` counts the calls made through it. */
function clientFailingUpdatesWith(error: Error): Client & { calls: number } {
  const handle = {
    executeUpdate: () => Promise.reject(error),
    query: () => Promise.resolve({ bookingId: 'b-1' }),
  };
  const client = {
    calls: 0,
    withDeadline: <T>(_deadline: number, call: () => Promise<T>) => {
      client.calls += 1;
      return call();
    },
    withAbortSignal: <T>(_signal: AbortSignal, call: () => Promise<T>) => call(),
    workflow: { getHandle: () => handle },
  };
  return client as unknown as Client & { calls: number };
}

/**
 * A Temporal client whose updates answer after `answerAfterMs`, or never; an update whose call is abandoned
 * (its abort signal) fails as the SDK's does. `abandoned` counts those.
 */
function clientAnsweringUpdatesAfter(answerAfterMs: number | null): Client & { abandoned: number } {
  let signal: AbortSignal | undefined;
  const handle = {
    executeUpdate: () =>
      new Promise((resolve, reject) => {
        const answer =
          answerAfterMs === null ? undefined : setTimeout(() => resolve({ status: 'cancelled' }), answerAfterMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(answer);
          client.abandoned += 1;
          reject(new ServiceError('Workflow Update failed', { cause: grpcError(1, 'The operation was aborted') }));
        });
      }),
  };
  const client = {
    abandoned: 0,
    withDeadline: <T>(_deadline: number, call: () => Promise<T>) => call(),
    withAbortSignal: <T>(abortSignal: AbortSignal, call: () => Promise<T>) => {
      signal = abortSignal;
      return call();
    },
    workflow: { getHandle: () => handle },
  };
  return client as unknown as Client & { abandoned: number };
}

const noListening = () => () => false;

/** A gRPC NOT_FOUND as Temporal's frontend sends it, with the failure it names in the status details. */
function grpcNotFound(details: string, failure: 'NotFoundFailure' | 'NamespaceNotFoundFailure'): Error {
  const value =
    failure === 'NotFoundFailure'
      ? temporal.api.errordetails.v1.NotFoundFailure.encode({}).finish()
      : temporal.api.errordetails.v1.NamespaceNotFoundFailure.encode({ namespace: 'maskline' }).finish();
  const status = google.rpc.Status.encode({
    code: 5,
    message: details,
    details: [{ type_url: `type.googleapis.com/temporal.api.errordetails.v1.${failure}`, value }],
  }).finish();
  const metadata = { get: (key: string) => (key === 'grpc-status-details-bin' ? [Buffer.from(status)] : []) };
  return Object.assign(new Error(`5 NOT_FOUND: ${details}`), { code: 5, details, metadata });
}

/** A Temporal client whose every call on a booking's workflow, and every raw service call, fails with `error`. */
function clientFailingWith(error: Error): Client {
  const fail = () => Promise.reject(error);
  const handle = { signal: fail, query: fail, describe: fail, executeUpdate: fail };
  return {
    withDeadline: <T>(_deadline: number, call: () => Promise<T>) => call(),
    withAbortSignal: <T>(_signal: AbortSignal, call: () => Promise<T>) => call(),
    options: { namespace: 'maskline' },
    workflow: { getHandle: () => handle, list: async function* () {} },
    workflowService: { deleteWorkflowExecution: fail },
  } as unknown as Client;
}

async function closeError(error: Error, client: Client = clientFailingUpdatesWith(error)): Promise<unknown> {
  const bookings = new BookingClient(client, 'bookings');
  return bookings.cancel('b-1').then(
    () => assert.fail('the cancellation succeeded'),
    (thrown: unknown) => thrown,
  );
}

describe('Temporal failures as the booking client reports them', () => {
  it('an update whose workflow task failed under it (its worker died) is temporal_unavailable, to be retried', async () => {
    const failed = new ServiceError('Workflow Update failed', {
      cause: grpcError(9, 'Unable to perform workflow execution update due to unexpected workflow task failure.'),
    });
    const error = await closeError(failed);
    assert.ok(error instanceof BookingError, String(error));
    assert.equal(error.code, 'temporal_unavailable');
  });

  it('an update refused because its workflow task is in a failed state (a killed worker\u2019s speculative task) is temporal_unavailable', async () => {
    const failed = new ServiceError('Workflow Update failed', {
      cause: grpcError(9, 'Unable to perform workflow execution update due to Workflow Task in failed state.'),
    });
    const error = await closeError(failed);
    assert.ok(error instanceof BookingError && error.code === 'temporal_unavailable', String(error));
  });

  it('any refusal Temporal marks WorkflowNotReady is temporal_unavailable, whatever its words', async () => {
    const failed = new ServiceError('Workflow Update failed', {
      cause: grpcError(9, 'some wording of a later server version', [
        'temporal.api.errordetails.v1.WorkflowNotReadyFailure',
      ]),
    });
    const error = await closeError(failed);
    assert.ok(error instanceof BookingError && error.code === 'temporal_unavailable', String(error));
  });

  it('an update refused for too many at once is temporal_unavailable, to be retried', async () => {
    const error = await closeError(
      new ServiceError('Workflow Update failed', { cause: grpcError(8, 'limit on in-flight updates reached') }),
    );
    assert.ok(error instanceof BookingError && error.code === 'temporal_unavailable', String(error));
  });

  it('an update no worker processed (its workflow task completed without it) is temporal_unavailable', async () => {
    const unprocessed = ApplicationFailure.create({
      type: 'UnprocessedUpdate',
      message: "Workflow Update is rejected because it wasn't processed by worker.",
      nonRetryable: true,
    });
    const error = await closeError(new WorkflowUpdateFailedError('Workflow Update failed', unprocessed));
    assert.ok(error instanceof BookingError && error.code === 'temporal_unavailable', String(error));
  });

  it('an update failure of a kind we do not know stays an error of ours, named in its log line', async () => {
    const strange = ApplicationFailure.create({ type: 'SomethingNew', message: 'no idea', nonRetryable: true });
    const error = await closeError(new WorkflowUpdateFailedError('Workflow Update failed', strange));
    assert.ok(!(error instanceof BookingError), String(error));
    assert.match(String(error), /Workflow Update failed \(SomethingNew: no idea\)/);
  });

  it('any other failed precondition stays an error of ours', async () => {
    const error = await closeError(
      new ServiceError('Workflow Update failed', { cause: grpcError(9, 'namespace is not active') }),
    );
    assert.ok(!(error instanceof BookingError), String(error));
    // ... whose log line names the gRPC status that the SDK's message leaves out.
    assert.match(String(error), /Workflow Update failed \(gRPC 9: namespace is not active\)/);
  });
});

describe('a booking that does not exist, told apart from every other failure', () => {
  const signal = {
    sessionId: 's-1',
    callerRole: null,
    kind: 'status' as const,
    at: '2026-03-01T00:00:00Z',
    status: 'X',
  };
  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'succeeded',
      (error: unknown) => (error instanceof BookingError ? error.code : 'other error'),
    );

  it('Temporal saying the workflow is not there, or has completed, is booking_not_found', async () => {
    for (const error of [
      new WorkflowNotFoundError('workflow not found for ID: booking-b-1', 'booking-b-1', undefined),
      new WorkflowNotFoundError('workflow execution already completed', 'booking-b-1', undefined),
    ]) {
      const bookings = new BookingClient(clientFailingWith(error), 'bookings');
      assert.equal(await codeOf(bookings.recordCallEvent('b-1', signal)), 'booking_not_found');
      assert.equal(await bookings.get('b-1'), null);
    }
  });

  it('an error whose text says "not found", whatever else it is, is not a booking that does not exist', async () => {
    const notFoundText = fc
      .tuple(
        fc.string({ maxLength: 20 }),
        fc.constantFrom('not found', 'Not Found', 'NOT FOUND', 'is not found'),
        fc.string({ maxLength: 20 }),
      )
      .map(([before, words, after]) => `${before}${words}${after}`);
    const failure = fc.oneof(
      notFoundText.map((text) => new Error(text)),
      notFoundText.map((text) => new ServiceError(text, { cause: grpcError(14, text) })),
      notFoundText.map((text) => new ServiceError(text, { cause: grpcError(13, text) })),
      fc.constant(new NamespaceNotFoundError('maskline')),
      fc.constant(
        new ServiceError('Failed to signal Workflow', {
          cause: grpcNotFound('Namespace maskline is not found.', 'NamespaceNotFoundFailure'),
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(failure, async (error) => {
        const bookings = new BookingClient(clientFailingWith(error), 'bookings');
        assert.notEqual(await codeOf(bookings.recordCallEvent('b-1', signal)), 'booking_not_found', String(error));
        await assert.rejects(bookings.get('b-1'), String(error));
      }),
    );
  });

  it('on a raw service call, only a NOT_FOUND that names the workflow means it is gone', async () => {
    const gone = new BookingClient(
      clientFailingWith(grpcNotFound('workflow not found for ID: booking-b-1', 'NotFoundFailure')),
      'bookings',
    );
    await gone.deleteRuns('b-1', ['run-1']);
    const noNamespace = new BookingClient(
      clientFailingWith(grpcNotFound('Namespace maskline is not found.', 'NamespaceNotFoundFailure')),
      'bookings',
    );
    await assert.rejects(noNamespace.deleteRuns('b-1', ['run-1']));
  });
});

describe('the booking client while Temporal is known to be down', () => {
  it('answers temporal_unavailable at once, without calling Temporal', async () => {
    const client = clientFailingUpdatesWith(new Error('never reached'));
    const bookings = new BookingClient(client, 'bookings', {
      reachable: false,
      suspect: () => {},
      onDown: noListening,
    });
    await assert.rejects(bookings.cancel('b-1'), (error: unknown) => {
      assert.ok(error instanceof BookingError && error.code === 'temporal_unavailable', String(error));
      return true;
    });
    assert.equal(client.calls, 0);
  });

  it('has reachability checked when a call fails as unavailable, and only then', async () => {
    let suspicions = 0;
    const reachability = { reachable: true, suspect: () => void (suspicions += 1), onDown: noListening };
    const unavailable = clientFailingUpdatesWith(
      new ServiceError('Workflow Update failed', { cause: grpcError(14, 'connection refused') }),
    );
    await assert.rejects(new BookingClient(unavailable, 'bookings', reachability).cancel('b-1'));
    assert.equal(suspicions, 1);
    const refused = clientFailingUpdatesWith(
      new ServiceError('Workflow Update failed', { cause: grpcError(9, 'namespace is not active') }),
    );
    await assert.rejects(new BookingClient(refused, 'bookings', reachability).cancel('b-1'));
    assert.equal(suspicions, 1);
  });

  it('asks about a call left unanswered, and when the ping goes unanswered too, abandons it at once', async () => {
    // An update to a Temporal that has gone away: without the ask it would wait for its deadline (here, forever).
    const client = clientAnsweringUpdatesAfter(null);
    let pings = 0;
    const reachability = new TemporalReachability(async () => (pings++, false), { probeEveryMs: 60_000 });
    try {
      await assert.rejects(new BookingClient(client, 'bookings', reachability, 20).cancel('b-1'), (error: unknown) => {
        assert.ok(error instanceof BookingError && error.code === 'temporal_unavailable', String(error));
        return true;
      });
      assert.equal(pings, 1);
      assert.equal(client.abandoned, 1);
      assert.equal(reachability.reachable, false);
    } finally {
      reachability.close();
    }
  });

  it('lets a slow call finish when Temporal answers the ping (a busy worker, say)', async () => {
    const client = clientAnsweringUpdatesAfter(200);
    let pings = 0;
    const reachability = new TemporalReachability(async () => (pings++, true));
    try {
      assert.equal(await new BookingClient(client, 'bookings', reachability, 20).cancel('b-1'), 'cancelled');
      assert.equal(pings, 1);
      assert.equal(client.abandoned, 0);
      assert.equal(reachability.reachable, true);
    } finally {
      reachability.close();
    }
  });
});
