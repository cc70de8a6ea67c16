import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { metricsRegistry, observeServiceFigures } from '../src/metrics/metrics';
import { StoreFiguresReader, type StoreFigureSource } from '../src/metrics/storeFigures';

// The store figures' schedule, with the store's answers held by the test: a scrape must never wait for the
// store, reads must never pile up on a slow store, and a slow read must space the next one out.

interface HeldRead {
  resolve: (live: number) => void;
  reject: (error: Error) => void;
}

function heldSource() {
  const reads: HeldRead[] = [];
  const source: StoreFigureSource = {
    poolNumbers: async () => [{ status: 'active', country: 'SG', count: 3 }],
    liveBookings: () => new Promise<number>((resolve, reject) => reads.push({ resolve, reject })),
    pendingCallEvents: async () => 0,
  };
  return { source, reads };
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function sampleOf(text: string, name: string): string | undefined {
  return text
    .split('\n')
    .find((line) => line.startsWith(`${name} `))
    ?.split(' ')[1];
}

describe('the store figures behind /metrics', () => {
  it('a scrape answers while the store is still counting, with the last figures and their age', async () => {
    const { source, reads } = heldSource();
    const stop = observeServiceFigures({ ...source, temporalReachable: () => true }, { everyMs: 0, backoffFactor: 0 });
    try {
      // The first scrape starts the first read and does not wait for it.
      const first = await metricsRegistry.metrics();
      assert.equal(sampleOf(first, 'maskline_temporal_reachable'), '1');
      assert.equal(reads.length, 1);
      reads[0]!.resolve(1_234);
      // The next read starts at once (everyMs 0) and is held: the scrape answers the first read's figures.
      await waitFor(() => reads.length === 2);
      const second = await metricsRegistry.metrics();
      assert.equal(reads.length, 2, 'the scrape started no read of its own');
      assert.equal(sampleOf(second, 'maskline_pool_live_bookings'), '1234');
      assert.match(sampleOf(second, 'maskline_store_figures_age_seconds') ?? '', /^\d+(\.\d+)?(e-\d+)?$/);
      assert.match(sampleOf(second, 'maskline_store_figures_read_seconds') ?? '', /^\d+(\.\d+)?(e-\d+)?$/);
      assert.match(second, /maskline_pool_numbers\{status="active",country="SG"\} 3/);
    } finally {
      stop();
    }
  });

  it('never runs two reads at once, however often it is scraped', async () => {
    const { source, reads } = heldSource();
    const stop = observeServiceFigures({ ...source, temporalReachable: () => true }, { everyMs: 0, backoffFactor: 0 });
    try {
      for (let i = 0; i < 20; i++) await metricsRegistry.metrics();
      assert.equal(reads.length, 1, 'one read under way, whatever the scrapes');
    } finally {
      stop();
    }
  });

  it('waits nine times a slow read before the next, and keeps the last figures when a read fails', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { source, reads } = heldSource();
    const reader = new StoreFiguresReader(source, { everyMs: 15_000, backoffFactor: 9 });
    try {
      reader.start();
      assert.equal(reads.length, 1);
      mock.timers.tick(4_000); // the store takes 4 s to count
      reads[0]!.resolve(7);
      await reader.settled();
      await flush();
      assert.equal(reader.latest()?.live, 7);

      mock.timers.tick(35_999);
      assert.equal(reads.length, 1, 'no read before 9 x 4 s');
      mock.timers.tick(1);
      assert.equal(reads.length, 2);

      reads[1]!.reject(new Error('store unavailable'));
      await reader.settled();
      await flush();
      assert.equal(reader.latest()?.live, 7, 'a failed read keeps the figures before it');
      mock.timers.tick(15_000);
      assert.equal(reads.length, 3, 'and the next read comes on the usual schedule');
    } finally {
      reader.stop();
      mock.timers.reset();
    }
  });
});
