import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsRegistry } from '../metrics/metrics';

export interface WorkerMetricsOptions {
  port: number;
  host?: string;
  /** Whether the worker runs and polls its task queue: `/healthz` answers 200 then, 503 otherwise. */
  running: () => boolean;
  /**
   * The Temporal SDK's own Prometheus endpoint (`http://127.0.0.1:<port>/metrics`), whose text follows ours on
   * `/metrics`: the SDK's exporter can only bind a port of its own (Runtime telemetryOptions.metrics.prometheus),
   * so one scrape target gives both. Null: ours only.
   */
  sdkMetricsUrl?: string | null;
}

/** The worker's metrics and liveness port: `GET /metrics` (Prometheus text) and `GET /healthz`. */
export async function startWorkerMetricsServer(options: WorkerMetricsOptions) {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || (path !== '/metrics' && path !== '/healthz')) {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'not_found', message: 'GET /metrics or GET /healthz' } }));
      return;
    }
    if (path === '/healthz') {
      const running = options.running();
      response
        .writeHead(running ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: running ? 'ok' : 'stopping' }));
      return;
    }
    void metricsText(options.sdkMetricsUrl ?? null).then(
      (text) => response.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  server.listen(options.port, options.host ?? '0.0.0.0');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

async function metricsText(sdkMetricsUrl: string | null): Promise<string> {
  const ours = await metricsRegistry.metrics();
  if (!sdkMetricsUrl) return ours;
  // The worker's metrics still answer while the SDK's do not (starting, or a bug of theirs).
  const sdk = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2_000) })
    .then((answer) => (answer.ok ? answer.text() : ''))
    .catch(() => '');
  return sdk ? `${ours}\n${sdk}` : ours;
}
