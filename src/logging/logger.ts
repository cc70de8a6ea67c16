import pino from 'pino';
import { activeTraceId } from '../tracing/traceId';
import { redactText, redactValue } from './redact';

export type Logger = pino.Logger;

/**
 * The one logger of a Maskline process: JSON lines on stdout, level from LOG_LEVEL, and every line passed
 * through the phone-number redaction step, both the message and every field.
 */
export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}) {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: options.name ?? 'maskline' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // A line written inside a traced request, workflow task or activity names its trace.
      mixin: () => {
        const traceId = activeTraceId();
        return traceId ? { traceId } : {};
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => redactValue(record) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg));
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    // Synchronous writes: few lines are logged per request, and a line written before a crash is never lost.
    // The asynchronous destination also made exit spin forever once stdout's reader was gone (sonic-boom retries
    // a write that failed with EPIPE at exit without end), so a process whose parent died could not stop.
    options.destination ?? pino.destination({ sync: true }),
  );
}
