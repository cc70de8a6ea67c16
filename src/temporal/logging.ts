import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '../logging/logger';

const CORE_LOG_LEVEL: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN' };

/**
 * Routes the SDK's own logs through our logger, and so through redaction: the worker's and the workflow sandbox's,
 * and the native core's (which would otherwise go straight to stderr), at the logger's level. The Runtime is one
 * per process: call this once, before any NativeConnection or Worker is created. With `prometheusBindAddress`, the
 * SDK also serves its metrics there (the worker relays them on its metrics port).
 */
export function installTemporalLogging(logger: Logger, options: { prometheusBindAddress?: string } = {}): void {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const target = logger.child({ component: 'temporal' });
    const fields = meta ?? {};
    if (level === 'ERROR') target.error(fields, message);
    else if (level === 'WARN') target.warn(fields, message);
    else if (level === 'INFO') target.info(fields, message);
    else if (level === 'DEBUG') target.debug(fields, message);
    else target.trace(fields, message);
  };
  Runtime.install({
    logger: {
      log,
      trace: (m, meta) => log('TRACE', m, meta),
      debug: (m, meta) => log('DEBUG', m, meta),
      info: (m, meta) => log('INFO', m, meta),
      warn: (m, meta) => log('WARN', m, meta),
      error: (m, meta) => log('ERROR', m, meta),
    },
    telemetryOptions: {
      logging: { forward: {}, filter: { core: CORE_LOG_LEVEL[logger.level] ?? 'ERROR', other: 'ERROR' } },
      // The SDK's own metrics (task queue polls, schedule-to-start latency, slots, ...), in seconds as ours are.
      ...(options.prometheusBindAddress
        ? {
            metrics: {
              prometheus: {
                bindAddress: options.prometheusBindAddress,
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }
        : {}),
    },
  });
}
