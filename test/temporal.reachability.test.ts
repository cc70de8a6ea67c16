import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitUntil } from '../scripts/local/ports';
import { TemporalReachability } from '../src/temporal/reachability';

// The switch that lets the booking client answer 503 at once while Temporal is down. The ping is scripted here;
// reliability.outages runs it against a real Temporal that is stopped and started again.

function scriptedPing(answers: boolean[]) {
  const ping = async () => {
    ping.calls += 1;
    return answers.length > 1 ? answers.shift()! : answers[0]!;
  };
  ping.calls = 0;
  return ping;
}

describe('Temporal reachability', () => {
  it('a failed call with Temporal still answering the ping (a worker was slow, say) changes nothing', async () => {
    const ping = scriptedPing([true]);
    const changes: boolean[] = [];
    const reachability = new TemporalReachability(ping, { onChange: (up) => changes.push(up) });
    reachability.suspect();
    await waitUntil('the ping', async () => ping.calls === 1, { timeoutMs: 5_000, intervalMs: 5 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reachability.reachable, true);
    assert.deepEqual(changes, []);
    reachability.close();
  });

  it('an unanswered ping marks Temporal down until a probe is answered, telling both changes', async () => {
    const ping = scriptedPing([false, false, false, true]);
    const changes: boolean[] = [];
    const reachability = new TemporalReachability(ping, { probeEveryMs: 10, onChange: (up) => changes.push(up) });
    reachability.suspect();
    await waitUntil('marked down', async () => !reachability.reachable, { timeoutMs: 5_000, intervalMs: 2 });
    // Suspicions while it is known to be down send no ping of their own.
    const pings = ping.calls;
    reachability.suspect();
    reachability.suspect();
    assert.equal(ping.calls, pings);
    await waitUntil('up again', async () => reachability.reachable, { timeoutMs: 5_000, intervalMs: 2 });
    assert.deepEqual(changes, [false, true]);
    assert.equal(ping.calls, 4, 'the first ping, two unanswered probes, the answered one');
    reachability.close();
  });

  it('a ping that throws counts as unanswered', async () => {
    const reachability = new TemporalReachability(() => Promise.reject(new Error('connection refused')), {
      probeEveryMs: 60_000,
    });
    reachability.suspect();
    await waitUntil('marked down', async () => !reachability.reachable, { timeoutMs: 5_000, intervalMs: 2 });
    reachability.close();
  });

  it('tells the calls still waiting when Temporal is found down, and only those still listening', async () => {
    const reachability = new TemporalReachability(scriptedPing([false]), { probeEveryMs: 60_000 });
    const told: string[] = [];
    reachability.onDown(() => told.push('waiting'));
    const stopListening = reachability.onDown(() => told.push('answered meanwhile'));
    stopListening();
    reachability.suspect();
    await waitUntil('marked down', async () => !reachability.reachable, { timeoutMs: 5_000, intervalMs: 2 });
    assert.deepEqual(told, ['waiting']);
    reachability.close();
  });
});
