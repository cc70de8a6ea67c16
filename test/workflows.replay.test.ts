import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createDataConverter } from '../src/temporal/payloadEncryption';
import { ENCRYPTION_KEYS } from '../harness/stack';
import * as workflows from '../workflows';

/**
 * Workflow code must replay every history a running workflow may have, or a deploy breaks the bookings under way.
 * test/fixtures/histories holds one set per change of the workflows (recorded by harness/recordHistories.ts
 * on the code of that time); every history of every set must replay against the code as it is now.
 */
const FIXTURES = path.join(__dirname, 'fixtures', 'histories');
const [keyId, key] = ENCRYPTION_KEYS.split(':');

function recordedHistories() {
  return fs
    .readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const json: unknown = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));
      return { file, history: temporal.api.history.v1.History.fromObject(json as object) };
    });
}

describe('workflow changes are safe for running workflows', () => {
  it('every recorded history of every workflow type replays against the current code', async () => {
    const histories = recordedHistories();
    const types = new Set(
      histories.map(({ history }) => history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
    );
    assert.deepEqual(
      [...types].sort(),
      Object.keys(workflows).sort(),
      'a history of every workflow type the worker runs',
    );
    const failures: string[] = [];
    const results = Worker.runReplayHistories(
      {
        workflowsPath: require.resolve('../workflows'),
        dataConverter: createDataConverter([{ id: keyId!, key: Buffer.from(key!, 'base64') }]),
      },
      histories.map(({ file, history }) => ({ workflowId: file, history })),
    );
    for await (const result of results) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
  });
});
