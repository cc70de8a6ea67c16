// First: tracing, when asked for, patches `http` before anything requires it.
import '../tracing/register';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../config';
import { exitOnFailure } from '../logging/exit';
import { createLogger } from '../logging/logger';
import { recordCallActions } from '../metrics/metrics';
import { connectDatabase, ensureIndexesWhenReachable } from '../store/database';
import { connectTemporalClient } from '../temporal/connection';
import { createHttpApplication } from './httpApplication';

/** The HTTP server process: the booking API and 8x8's webhooks, until SIGINT/SIGTERM. */
async function main() {
  const config = loadConfig(process.env, 'http');
  const logger = createLogger({ level: config.logLevel, name: 'maskline-http' });
  recordCallActions(config.callActionMetrics);
  if (config.developmentMode) {
    const open = [
      ...(config.apiKey === null ? ['the API (MASKLINE_API_KEY unset)'] : []),
      ...(config.webhookSecret === null ? ['the webhooks (MASKLINE_WEBHOOK_SECRET unset)'] : []),
      ...(config.codecToken === null ? ['the codec endpoint (MASKLINE_CODEC_TOKEN unset)'] : []),
      ...(config.metricsToken === null ? ['the metrics (MASKLINE_METRICS_TOKEN unset)'] : []),
    ];
    logger.warn(
      { open },
      'DEVELOPMENT MODE (MASKLINE_DEVELOPMENT_MODE=true): what has no credential set accepts requests without one',
    );
  }
  if (config.developmentEncryptionKey) {
    logger.warn(
      'DEVELOPMENT KEY: MASKLINE_ENCRYPTION_KEYS is unset; Temporal payloads are encrypted with a public development key',
    );
  }

  const database = await connectDatabase(config.mongodbUri, { lazy: true });
  void ensureIndexesWhenReachable(database, (error) => logger.warn({ err: error }, 'store unreachable; will retry'));
  const temporal = await connectTemporalClient(config);
  const { app, redeliverCallEvents, sessions, temporalReachability, stopObservingFigures } = createHttpApplication(
    config,
    {
      database,
      temporal,
      logger,
    },
  );

  const server = app.listen(config.port);
  await once(server, 'listening');
  // Keep-alive longer than typical load balancers' idle timeout, so they never reuse a closed socket.
  server.keepAliveTimeout = 65_000;

  // Events stored while Temporal was unreachable reach their bookings once it is back. The first round runs at
  // once: it also tells this process which bookings have events left pending (by it before a restart, or by
  // another server), so that new events for those bookings wait behind them.
  redeliverCallEvents();
  const redelivery = setInterval(redeliverCallEvents, 5_000);

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'http server stopping');
    clearInterval(redelivery);
    temporalReachability.close();
    stopObservingFigures();
    server.close();
    server.closeIdleConnections();
    await once(server, 'close');
    await sessions.flush();
    await temporal.connection.close();
    await database.close();
    logger.info('http server stopped');
    logger.flush();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      shutdown(signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  // Announced only once a SIGTERM would be handled: before its handler, the signal's default kills at once, and a
  // supervisor that stops the server as soon as it is up saw it die by the signal (the shutdown test, on Node 24).
  logger.info({ port: (server.address() as AddressInfo).port }, 'http server listening');
}

main().catch(exitOnFailure('maskline-http', 'http server failed', [ConfigError]));
