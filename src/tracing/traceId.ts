import { context, trace } from '@opentelemetry/api';

/** The trace id of the span active here, for log lines; undefined outside any span (or with tracing off). */
export function activeTraceId(): string | undefined {
  return trace.getSpan(context.active())?.spanContext().traceId;
}
