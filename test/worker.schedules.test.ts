import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { untilAccepted } from '../src/temporal/schedules';
import { createLogger } from '../src/logging/logger';

// A worker sets up its schedules at every start. Restarted while Temporal is busy or briefly away (after a
// crash, under load), it must keep trying; refused for a reason that will not pass, it must fail at once.

describe("a worker's set-up of its schedules", () => {
  // A real client of a Temporal that is not there: its calls fail as Temporal's own transient refusals do.
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const absent = new Client({ connection });
  const refusedForNow = () => absent.withDeadline(Date.now() + 300, () => absent.schedule.getHandle('any').describe());
  const warnings: string[] = [];
  const logger = createLogger({
    level: 'warn',
    name: 'test',
    destination: { write: (line: string) => warnings.push(line) },
  });
  after(() => connection.close());

  it('is tried again while Temporal refuses for now, until it is accepted', async () => {
    warnings.length = 0;
    let attempts = 0;
    await untilAccepted(
      'setting up',
      async () => {
        attempts += 1;
        if (attempts < 3) await refusedForNow();
      },
      logger,
      { firstDelayMs: 10 },
    );
    assert.equal(attempts, 3);
    assert.equal(warnings.length, 2);
  });

  it('fails at once on a refusal that will not pass, and after its patience on one that does not end', async () => {
    let attempts = 0;
    const notTransient = new Error('the schedule cannot be read with these keys');
    await assert.rejects(
      untilAccepted(
        'setting up',
        async () => {
          attempts += 1;
          throw notTransient;
        },
        logger,
        { firstDelayMs: 10 },
      ),
      notTransient,
    );
    assert.equal(attempts, 1);

    let tries = 0;
    const neverAccepted = async () => {
      tries += 1;
      await refusedForNow();
    };
    await assert.rejects(untilAccepted('setting up', neverAccepted, logger, { firstDelayMs: 10, patienceMs: 1_000 }));
    assert.ok(tries > 1, `tried ${tries} times`);
  });
});
